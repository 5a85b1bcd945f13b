// Snapshots taken from the running broker a slice at a time
// (Broker::snapshot_slice): written and read back as the store does, they
// must hold exactly the state the store's own log recovers to.
#include "store/snapshot.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>

#include "../store/store_test_util.h"
#include "store/frame.h"
#include "store/recovery.h"
#include "stored_broker.h"

namespace stellwerk::broker::testing {
namespace {

using mqtt::QoS;
using mqtt::Version;
using store::RecoveredState;

// As broker/snapshot.cpp: a slice stops once it has walked this many
// entries, but never within a session.
constexpr size_t kSliceEntries = 1000;
const std::string kSnapshotDir = "/snapshot";

size_t entries_of(const store::RecoveredSession& session) {
  return 1 + session.subscriptions.size() + session.queue.size() + session.inflight.size() +
         session.inbound_qos2.size();
}

size_t largest_session(const RecoveredState& state) {
  size_t largest = 0;
  for (const auto& session : state.sessions) largest = std::max(largest, entries_of(session));
  return largest;
}

const store::RecoveredSession* find_session(const RecoveredState& state, std::string_view client_id) {
  for (const auto& session : state.sessions) {
    if (session.client_id == client_id) return &session;
  }
  return nullptr;
}

// What describe() leaves out: every subscription option, and the store ids
// the bodies recovered with.
std::string describe_fully(const RecoveredState& state) {
  std::string out = store::testing::describe(state);
  for (const auto& message : state.retained)
    out += fmt::format("id {} {}\n", message->topic(), message->store_id());
  for (const auto& session : state.sessions) {
    for (const auto& [filter, sub] : session.subscriptions) {
      out += fmt::format("{} {} rap{:d} rh{}\n", session.client_id, filter, sub.options.retain_as_published,
                         static_cast<int>(sub.options.retain_handling));
    }
    for (const auto& delivery : session.queue) out += fmt::format("id {}\n", delivery.message->store_id());
  }
  return out;
}

// The store keeps times as wall-clock milliseconds, each converted from the
// steady clock with a reading of both clocks taken when it was recorded. The
// log's readings and the snapshot's differ, so a time may differ by the
// rounding of the two conversions: such a time counts as the same.
constexpr store::WallMs kRoundingMs = 2;

void align_wall(store::WallMs& snapshot, store::WallMs log) {
  if (std::llabs(snapshot - log) <= kRoundingMs) snapshot = log;
}

void align_message(session::MessagePtr& snapshot, const session::MessagePtr& log) {
  if (!snapshot->expires_at() || !log->expires_at() || !store::same_content(*snapshot, *log)) return;
  if (std::chrono::abs(*snapshot->expires_at() - *log->expires_at()) <=
      std::chrono::milliseconds(kRoundingMs)) {
    snapshot = log;
  }
}

void align_session(store::RecoveredSession& snapshot, const store::RecoveredSession& log) {
  align_wall(snapshot.info.expires_at, log.info.expires_at);
  align_wall(snapshot.info.will_due_at, log.info.will_due_at);
  if (snapshot.queue.size() != log.queue.size() || snapshot.inflight.size() != log.inflight.size()) return;
  for (size_t i = 0; i < snapshot.queue.size(); ++i)
    align_message(snapshot.queue[i].message, log.queue[i].message);
  for (size_t i = 0; i < snapshot.inflight.size(); ++i) {
    align_message(snapshot.inflight[i].delivery.message, log.inflight[i].delivery.message);
  }
}

// Only where the two have the same shape: where they do not, the comparison
// fails anyway and shows why.
void align_clock_readings(RecoveredState& snapshot, const RecoveredState& log) {
  if (snapshot.retained.size() == log.retained.size()) {
    for (size_t i = 0; i < snapshot.retained.size(); ++i)
      align_message(snapshot.retained[i], log.retained[i]);
  }
  if (snapshot.sessions.size() != log.sessions.size()) return;
  for (size_t i = 0; i < snapshot.sessions.size(); ++i) {
    if (snapshot.sessions[i].client_id == log.sessions[i].client_id)
      align_session(snapshot.sessions[i], log.sessions[i]);
  }
}

class SnapshotSliceTest : public StoredBrokerTest {
 protected:
  // StoredBrokerTest::start() with `config`.
  void start_with(BrokerConfig config) {
    start();
    harness = std::make_unique<BrokerHarness>(std::move(config));
    harness->broker.attach_store(store.get());
  }

  void go_offline(ConnectionId id) { harness->broker.on_close(id, "gone", harness->clock.now()); }
  store::Sequence last_committed() { return store->sequence_after(store->batch(store::TimeBase::now())); }

  // Every slice, as the store's snapshot thread takes them, into
  // kSnapshotDir/state.snap; the broker is quiet meanwhile, so every slice
  // is captured at the sequence the log ends at. Returns the entries each
  // slice walked.
  std::vector<size_t> write_snapshot() {
    std::vector<size_t> walked;
    EXPECT_TRUE(env.create_dir(kSnapshotDir).ok());
    const store::Sequence sequence = last_committed();
    auto writer = store::SnapshotWriter::start(env, kSnapshotDir, sequence);
    EXPECT_TRUE(writer.ok());
    if (!writer.ok()) return walked;
    Broker::SnapshotCursor cursor;
    for (;;) {
      store::Batch batch = store->batch(store::TimeBase::now());
      const size_t walked_before = cursor.walked;
      if (!harness->broker.snapshot_slice(cursor, batch)) {
        EXPECT_TRUE(batch.empty()) << "the last call adds nothing";
        break;
      }
      walked.push_back(cursor.walked - walked_before);
      writer->begin_slice(sequence);
      writer->add_batch(batch);
    }
    EXPECT_TRUE(writer->finish().ok());
    EXPECT_TRUE(store::SnapshotWriter::publish(env, kSnapshotDir).ok());
    return walked;
  }

  RecoveredState recovered(const std::string& dir) {
    auto recovery = store::recover(env, dir, 0);
    EXPECT_TRUE(recovery.ok());
    if (!recovery.ok()) return {};
    EXPECT_TRUE(recovery->report.set_aside.empty()) << dir;
    return recovery->state.to_recovered(store::testing::fixed_time());
  }
};

// ---------------------------------------------------------------- traffic

class SnapshotOfTrafficTest : public SnapshotSliceTest {
 protected:
  static constexpr size_t kRetainedTopics = 3200;  // more than three slices
  static constexpr size_t kIdleSessions = 1200;    // sessions take slices too

  static BrokerConfig config() {
    BrokerConfig config;
    config.queue.queue_qos0_offline = true;  // a QoS 0 entry in a queue, which the log never has
    return config;
  }

  // A v3.1.1 session without clean session, offline, with QoS 0, 1 and 2
  // messages queued for it later.
  void away_v311() {
    harness->connect(1, persistent("away311", Version::v311));
    harness->send(1, subscribe(1, "news/#", QoS::exactly_once));
    go_offline(1);
  }

  // A v5 session with an expiry (offline, so it has a deadline), a
  // subscription identifier, options away from their defaults and a shared
  // subscription.
  void away_v5() {
    harness->connect(2, persistent("away5", Version::v5));
    mqtt::Subscribe s = subscribe(1, "news/#", QoS::at_least_once);
    s.properties.subscription_identifiers = {42};
    s.topics[0].options.retain_as_published = true;
    s.topics[0].options.retain_handling = mqtt::RetainHandling::send_if_new;
    s.topics.push_back({"$share/workers/jobs/#", mqtt::SubscriptionOptions{QoS::exactly_once}});
    harness->send(2, s);
    go_offline(2);
  }

  // Connected, with a delayed will, and messages in flight it has not
  // acknowledged: one QoS 2 past its PUBREC.
  void busy_v5() {
    mqtt::Connect c = persistent("busy5", Version::v5);
    c.will = mqtt::Will{"wills/busy5", "gone", QoS::at_least_once, false, {}};
    c.will->properties.will_delay_interval = 30;
    harness->connect(3, c);
    harness->send(3, subscribe(1, "news/#", QoS::exactly_once));
  }

  // Ends with its connection: never recorded, though it has messages in flight.
  void transient() {
    harness->connect(4, "transient", Version::v311, /*clean=*/true);
    harness->send(4, subscribe(1, "news/#", QoS::at_least_once));
  }

  void publish_news() {
    harness->connect(5, persistent("pub5", Version::v5));
    harness->send(5, publish("news/a", "one", QoS::at_least_once, 1));
    // No PUBREL: its packet id stays among pub5's inbound QoS 2 ids.
    harness->send(5, publish("news/b", "two", QoS::exactly_once, 7));
    harness->send(5, publish("news/c", "zero", QoS::at_most_once));
    mqtt::Publish with_properties = publish("news/d", "four", QoS::at_least_once, 2);
    with_properties.properties.content_type = "text/plain";
    with_properties.properties.user_properties = {{"k", "v"}};
    harness->send(5, with_properties);
    harness->send(5, publish("jobs/1", "job", QoS::at_least_once, 3));
  }

  void release_one_qos2_to_busy() {
    for (const mqtt::Packet& packet : harness->take(3)) {
      const auto* sent = std::get_if<mqtt::Publish>(&packet);
      if (!sent || sent->qos != QoS::exactly_once) continue;
      harness->send(3, mqtt::Ack{mqtt::PacketType::pubrec, sent->packet_id});
      return;
    }
    ADD_FAILURE() << "busy5 got no QoS 2 PUBLISH";
  }

  void retain_many() {
    harness->connect(6, "loader", Version::v311, /*clean=*/true);
    for (size_t i = 0; i < kRetainedTopics; ++i) {
      harness->send(
          6, publish("retained/" + std::to_string(i), "v" + std::to_string(i), QoS::at_most_once, 0, true));
    }
    harness->send(6, publish("$app/state", "up", QoS::at_most_once, 0, true));
    // The broker's $SYS values are retained too.
    harness->advance(std::chrono::seconds(11));
  }

  void many_idle_sessions() {
    for (size_t i = 0; i < kIdleSessions; ++i) {
      const ConnectionId id = 100 + i;
      harness->connect(id, persistent("idle-" + std::to_string(i), Version::v311));
      harness->send(id, subscribe(1, "idle/" + std::to_string(i), QoS::at_least_once));
      go_offline(id);
    }
  }

  void drive() {
    away_v311();
    away_v5();
    busy_v5();
    transient();
    publish_news();
    release_one_qos2_to_busy();
    retain_many();
    many_idle_sessions();
  }
};

TEST_F(SnapshotOfTrafficTest, SlicesHoldWhatTheLogRecovers) {
  start_with(config());
  drive();
  const std::vector<size_t> walked = write_snapshot();
  crash();  // the store writes all it was given
  RecoveredState from_snapshot = recovered(kSnapshotDir);
  const RecoveredState from_log = recovered("/store");
  align_clock_readings(from_snapshot, from_log);
  EXPECT_EQ(describe_fully(from_snapshot), describe_fully(from_log));

  EXPECT_GT(walked.size(), 3u);
  const size_t bound = kSliceEntries - 1 + largest_session(from_log);
  for (size_t i = 0; i < walked.size(); ++i) EXPECT_LE(walked[i], bound) << "slice " << i;
}

// The store's protocol with the broker going on between slices: the
// snapshot starts after the log's last record, each slice is captured at the
// log's end when it is taken, and recovery replays the log after the
// snapshot's start with the skip rule (docs/formats/store.md).
class SnapshotDuringTrafficTest : public SnapshotOfTrafficTest {
 protected:
  // Between slices: messages queued, sent and acknowledged, retained
  // topics set and cleared on both sides of the cursor, sessions made and
  // ended on both sides of it.
  void change_between_slices(size_t round) {
    const std::string n = std::to_string(round);
    harness->send(5, publish("news/round" + n, n, QoS::at_least_once, static_cast<uint16_t>(100 + round)));
    acknowledge_qos1_sent_to_busy();
    for (size_t topic : {round * 700 % kRetainedTopics, (round * 700 + 1500) % kRetainedTopics}) {
      harness->send(6,
                    publish("retained/" + std::to_string(topic), "changed" + n, QoS::at_most_once, 0, true));
      harness->send(6, publish("retained/" + std::to_string(topic + 1), "", QoS::at_most_once, 0, true));
    }
    harness->connect(1000 + round, persistent("new-" + n, Version::v5));
    harness->send(1000 + round, subscribe(1, "news/#", QoS::exactly_once));
    for (size_t idle : {round * 97 % kIdleSessions, (round * 97 + 600) % kIdleSessions}) {
      harness->connect(2000 + round, "idle-" + std::to_string(idle), Version::v311, /*clean=*/true);
      go_offline(2000 + round);
    }
  }

  void acknowledge_qos1_sent_to_busy() {
    for (const mqtt::Packet& packet : harness->take(3)) {
      const auto* sent = std::get_if<mqtt::Publish>(&packet);
      if (sent && sent->qos == QoS::at_least_once) {
        harness->send(3, mqtt::Ack{mqtt::PacketType::puback, sent->packet_id});
      }
    }
  }

  // Returns how many slices it took.
  size_t write_snapshot_during_traffic() {
    EXPECT_TRUE(env.create_dir(kSnapshotDir).ok());
    auto writer = store::SnapshotWriter::start(env, kSnapshotDir, last_committed());
    EXPECT_TRUE(writer.ok());
    if (!writer.ok()) return 0;
    Broker::SnapshotCursor cursor;
    size_t slices = 0;
    for (;;) {
      store::Batch batch = store->batch(store::TimeBase::now());
      const store::Sequence captured_at = last_committed();
      if (!harness->broker.snapshot_slice(cursor, batch)) break;
      writer->begin_slice(captured_at);
      writer->add_batch(batch);
      change_between_slices(++slices);
    }
    EXPECT_TRUE(writer->finish().ok());
    EXPECT_TRUE(store::SnapshotWriter::publish(env, kSnapshotDir).ok());
    return slices;
  }

  // The log beside the snapshot, as the store keeps it.
  void copy_log_to_snapshot_dir() {
    for (const std::string& name : env.names("/store")) {
      if (!store::frame::parse_segment_name(name)) continue;
      auto bytes = env.read_all("/store/" + name);
      ASSERT_TRUE(bytes.ok());
      env.set_contents(kSnapshotDir + "/" + name, std::move(*bytes));
    }
  }
};

TEST_F(SnapshotDuringTrafficTest, SnapshotAndTheLogAfterItRecoverWhatTheLogDoes) {
  start_with(config());
  drive();
  EXPECT_GT(write_snapshot_during_traffic(), 3u);
  crash();
  copy_log_to_snapshot_dir();
  RecoveredState from_snapshot = recovered(kSnapshotDir);
  const RecoveredState from_log = recovered("/store");
  align_clock_readings(from_snapshot, from_log);
  EXPECT_EQ(describe_fully(from_snapshot), describe_fully(from_log));
  EXPECT_NE(find_session(from_log, "new-1"), nullptr);
}

TEST_F(SnapshotOfTrafficTest, LeavesOutWhatIsNeverRecorded) {
  start_with(config());
  drive();
  const size_t retained_in_broker = harness->broker.retained_count();
  write_snapshot();
  crash();
  const RecoveredState snapshot = recovered(kSnapshotDir);

  EXPECT_GT(retained_in_broker, kRetainedTopics + 1) << "no $SYS topic was retained";
  EXPECT_EQ(snapshot.retained.size(), kRetainedTopics + 1);
  for (const auto& message : snapshot.retained) EXPECT_FALSE(message->topic().starts_with("$SYS"));
  EXPECT_EQ(find_session(snapshot, "transient"), nullptr);
  EXPECT_EQ(find_session(snapshot, "loader"), nullptr);
  const auto* away = find_session(snapshot, "away311");
  ASSERT_NE(away, nullptr);
  EXPECT_EQ(away->queue.size(), 3u);  // news/a, news/b and news/d; not the QoS 0 news/c
  for (const auto& delivery : away->queue) EXPECT_NE(delivery.qos, QoS::at_most_once);
}

TEST_F(SnapshotOfTrafficTest, HoldsEveryKindOfSessionEntry) {
  start_with(config());
  drive();
  write_snapshot();
  crash();
  const RecoveredState snapshot = recovered(kSnapshotDir);

  const auto* away5 = find_session(snapshot, "away5");
  ASSERT_NE(away5, nullptr);
  EXPECT_NE(away5->info.expires_at, 0);
  ASSERT_EQ(away5->subscriptions.count("news/#"), 1u);
  EXPECT_EQ(away5->subscriptions.at("news/#").identifier, 42u);
  EXPECT_EQ(away5->subscriptions.count("$share/workers/jobs/#"), 1u);

  const auto* busy = find_session(snapshot, "busy5");
  ASSERT_NE(busy, nullptr);
  ASSERT_TRUE(busy->info.will.has_value());
  EXPECT_EQ(busy->info.will->topic, "wills/busy5");
  EXPECT_EQ(busy->info.expires_at, 0) << "connected: no expiry running";
  EXPECT_EQ(busy->inflight.size(), 3u);
  EXPECT_TRUE(std::any_of(busy->inflight.begin(), busy->inflight.end(), [](const session::Inflight& entry) {
    return entry.state == session::InflightState::awaiting_pubcomp;
  }));

  const auto* pub = find_session(snapshot, "pub5");
  ASSERT_NE(pub, nullptr);
  EXPECT_EQ(pub->inbound_qos2, std::vector<uint16_t>{7});
}

// ---------------------------------------------------------------- narrower

class SnapshotWalkTest : public SnapshotSliceTest {
 protected:
  // Sessions of two entries each (the session and a subscription), so that
  // a slice holds about 500 of them.
  void idle_sessions(size_t count) {
    for (size_t i = 0; i < count; ++i) {
      const ConnectionId id = 1 + i;
      harness->connect(id, persistent(client_id(i), Version::v311));
      harness->send(id, subscribe(1, "idle/" + std::to_string(i), QoS::at_least_once));
      go_offline(id);
    }
  }
  static std::string client_id(size_t i) { return fmt::format("s{:04}", i); }

  // Between the first slice (s0000..s0499) and the rest; the log has every
  // record of these changes, so a snapshot need not hold them.
  void change_sessions_behind_the_listing() {
    // A clean session ends the stored one; the new one ends with its connection.
    harness->connect(5000, client_id(700), Version::v311, /*clean=*/true);
    harness->connect(5001, client_id(900), Version::v311, /*clean=*/true);
    go_offline(5001);
    // Ended and made again: the walk takes it as it is when reached.
    harness->connect(5002, client_id(1000), Version::v311, /*clean=*/true);
    go_offline(5002);
    harness->connect(5003, persistent(client_id(1000), Version::v311));
    harness->connect(5004, persistent("s0600-late", Version::v311));
  }

  bool next_slice(Broker::SnapshotCursor& cursor) {
    store::Batch batch = store->batch(store::TimeBase::now());
    return harness->broker.snapshot_slice(cursor, batch);
  }
};

TEST_F(SnapshotWalkTest, NothingToWalkAddsNothing) {
  start_with({});
  Broker::SnapshotCursor cursor;
  store::Batch batch = store->batch(store::TimeBase::now());
  EXPECT_FALSE(harness->broker.snapshot_slice(cursor, batch));
  EXPECT_TRUE(batch.empty());
  EXPECT_FALSE(harness->broker.snapshot_slice(cursor, batch)) << "and stays over";
}

TEST_F(SnapshotWalkTest, SessionsAreInClientIdOrderAcrossSlices) {
  start_with({});
  // Connected in reverse, so the table's order is not the walk's.
  for (size_t i = 1100; i-- > 0;) {
    harness->connect(1 + i, persistent(client_id(i), Version::v311));
    go_offline(1 + i);
  }
  const std::vector<size_t> walked = write_snapshot();
  crash();
  const RecoveredState snapshot = recovered(kSnapshotDir);
  EXPECT_EQ(walked, (std::vector<size_t>{1000, 100}));
  ASSERT_EQ(snapshot.sessions.size(), 1100u);
  EXPECT_TRUE(std::is_sorted(snapshot.sessions.begin(), snapshot.sessions.end(),
                             [](const auto& a, const auto& b) { return a.client_id < b.client_id; }));
}

TEST_F(SnapshotWalkTest, SessionsGoneOrCreatedMidWalkAreLeftToTheLog) {
  start_with({});
  idle_sessions(1100);
  ASSERT_TRUE(env.create_dir(kSnapshotDir).ok());
  auto writer = store::SnapshotWriter::start(env, kSnapshotDir, 0);
  ASSERT_TRUE(writer.ok());
  Broker::SnapshotCursor cursor;
  bool first = true;
  for (;;) {
    store::Batch batch = store->batch(store::TimeBase::now());
    if (!harness->broker.snapshot_slice(cursor, batch)) break;
    writer->begin_slice(0);
    writer->add_batch(batch);
    if (!first) continue;
    first = false;
    change_sessions_behind_the_listing();
  }
  ASSERT_TRUE(writer->finish().ok());
  ASSERT_TRUE(store::SnapshotWriter::publish(env, kSnapshotDir).ok());
  crash();
  std::vector<std::string> ids;
  for (const auto& session : recovered(kSnapshotDir).sessions) ids.push_back(session.client_id);
  EXPECT_EQ(ids.size(), 1098u);
  EXPECT_EQ(std::count(ids.begin(), ids.end(), client_id(700)), 0) << "no longer persistent";
  EXPECT_EQ(std::count(ids.begin(), ids.end(), client_id(900)), 0) << "ended";
  EXPECT_EQ(std::count(ids.begin(), ids.end(), client_id(1000)), 1) << "listed, and there again when reached";
  EXPECT_EQ(std::count(ids.begin(), ids.end(), "s0600-late"), 0) << "created after the listing";
}

TEST_F(SnapshotWalkTest, ASessionLargerThanASliceIsTakenWhole) {
  BrokerConfig config;
  config.queue.max_messages = 0;  // unlimited
  start_with(config);
  harness->connect(1, persistent("backlog", Version::v311));
  harness->send(1, subscribe(1, "q", QoS::at_least_once));
  go_offline(1);
  harness->connect(2, persistent("later", Version::v311));
  go_offline(2);
  harness->connect(3, "pub", Version::v311, /*clean=*/true);
  for (uint16_t i = 1; i <= 1500; ++i) harness->send(3, publish("q", "m", QoS::at_least_once, i));

  const std::vector<size_t> walked = write_snapshot();
  crash();
  const RecoveredState snapshot = recovered(kSnapshotDir);
  // 1 + 1 subscription + 1500 queued; "later" needs a slice of its own.
  EXPECT_EQ(walked, (std::vector<size_t>{1502, 1}));
  const auto* backlog = find_session(snapshot, "backlog");
  ASSERT_NE(backlog, nullptr);
  EXPECT_EQ(backlog->queue.size(), 1500u);
  EXPECT_NE(find_session(snapshot, "later"), nullptr);
}

TEST_F(SnapshotWalkTest, RetainedTopicsResumeAfterTheLastOneWalked) {
  start_with({});
  harness->connect(1, "loader", Version::v311, /*clean=*/true);
  for (size_t i = 0; i < 2500; ++i) {
    harness->send(1, publish(fmt::format("t/{:04}", i), "v", QoS::at_most_once, 0, true));
  }
  Broker::SnapshotCursor cursor;
  ASSERT_TRUE(next_slice(cursor));
  EXPECT_EQ(cursor.after_topic, "t/0999");
  // Changed behind the cursor: not walked again; ahead of it: walked as it is now.
  harness->send(1, publish("t/0000", "", QoS::at_most_once, 0, true));
  harness->send(1, publish("t/1500", "", QoS::at_most_once, 0, true));
  ASSERT_TRUE(next_slice(cursor));
  EXPECT_EQ(cursor.after_topic, "t/2000");
  ASSERT_TRUE(next_slice(cursor));
  EXPECT_TRUE(cursor.retained_done);
  EXPECT_EQ(cursor.walked, 2499u);
  EXPECT_FALSE(next_slice(cursor));
}

}  // namespace
}  // namespace stellwerk::broker::testing

// The recovery rule for snapshots taken from the broker's state in slices
// (docs/design/snapshots-without-mirror.md), through the store's own
// snapshot writer, reader and recovery: a snapshot whose items were each
// captured at their own sequence Sx >= S0, plus the log from S0 with every
// record about a session skipped when its sequence is at or before that
// session's Sx, rebuilds exactly the state of the whole log. Retained
// records are replayed whatever their topic's Sx: the last one about a
// topic decides its value, so applying one twice changes nothing.
#include <gtest/gtest.h>

#include <map>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "store/frame.h"
#include "store/memory_env.h"
#include "store/recovery.h"
#include "store/snapshot.h"
#include "store/state.h"
#include "store_test_util.h"

namespace stellwerk::store {
namespace {

using namespace record;
using session::InflightState;
using Batch = std::vector<Record>;

const std::vector<std::string> kClients{"a", "b", "c"};
const std::vector<std::string> kTopics{"x", "y"};

State state_after(const std::vector<Batch>& log, size_t batches) {
  State state;
  for (size_t b = 0; b < batches; ++b) {
    for (const Record& r : log[b]) state.apply(r);
    state.end_batch();
  }
  return state;
}

// A history the broker could write: one action per batch, chosen against
// the state so far so that most records find what they name.
class History {
 public:
  explicit History(uint32_t seed) : random_(seed) {}

  std::vector<Batch> make(size_t actions) {
    std::vector<Batch> log;
    for (size_t i = 0; i < actions; ++i) {
      const State now = state_after(log, log.size());
      log.push_back(action(now));
    }
    return log;
  }

 private:
  template <typename T>
  const T& pick(const std::vector<T>& from) {
    return from[std::uniform_int_distribution<size_t>(0, from.size() - 1)(random_)];
  }
  uint16_t packet_id() { return static_cast<uint16_t>(std::uniform_int_distribution<int>(1, 6)(random_)); }
  DeliveryRef ref(MessageId id) { return DeliveryRef{id, mqtt::QoS::at_least_once, false, {}}; }
  MessagePut body(const std::string& topic) {
    const MessageId id = next_id_++;
    return MessagePut{id, testing::make_message(topic, std::to_string(id), mqtt::QoS::at_least_once, false), 0};
  }
  std::optional<MessageId> some_queued(const State& now, const std::string& client) {
    auto it = now.sessions().find(client);
    if (it == now.sessions().end() || it->second.queue.empty()) return std::nullopt;
    const auto& queue = it->second.queue;
    return queue[std::uniform_int_distribution<size_t>(0, queue.size() - 1)(random_)].message;
  }

  Batch action(const State& now) {
    const std::string& client = pick(kClients);
    const std::string& topic = pick(kTopics);
    switch (std::uniform_int_distribution<int>(0, 13)(random_)) {
      case 0: return {SessionPut{client, SessionInfo{static_cast<uint32_t>(next_id_), std::nullopt, 0, 0}}};
      case 1: return {SessionDelete{client}};
      case 2: return {SubscriptionPut{client, topic + "/#", {}, 0}};
      case 3: return {SubscriptionDelete{client, topic + "/#"}};
      case 4:
      case 5: {
        MessagePut put = body(topic);
        const MessageId id = put.id;
        return {std::move(put), QueuePush{client, ref(id)}};
      }
      case 6: {
        MessagePut put = body(topic);
        const MessageId id = put.id;
        QueuePushInflight push{client, packet_id(), InflightState::awaiting_puback, ref(id)};
        switch (std::uniform_int_distribution<int>(0, 2)(random_)) {
          case 0:
            return {std::move(put), std::move(push)};
          // The body and the push in one record; then, as for a retained
          // message sent at once, a record that needs the body even where
          // recovery skips the push.
          case 1:
            return {MessagePutInflight{std::move(put), std::move(push)}};
          default:
            return {MessagePutInflight{std::move(put), std::move(push)}, RetainedSet{id}};
        }
      }
      case 7:
        if (auto id = some_queued(now, client)) {
          return {QueueToInflight{client, *id, packet_id(), InflightState::awaiting_pubrec}};
        }
        return {record::InflightState{client, packet_id(), InflightState::awaiting_pubcomp}};
      case 8:
        if (auto id = some_queued(now, client)) return {QueueDrop{client, *id}};
        return {MessagesClear{client}};
      case 9: return {InflightDelete{client, packet_id()}};
      case 10: return {InflightDeleteMany{client, {packet_id(), packet_id(), packet_id()}}};
      case 11: {
        MessagePut put = body(topic);
        const MessageId id = put.id;
        return {std::move(put), RetainedSet{id}};
      }
      case 12: return {RetainedClear{topic}};
      default:
        if (std::bernoulli_distribution(0.5)(random_)) return {InboundQos2Add{client, packet_id()}};
        return {InboundQos2Remove{client, packet_id()}};
    }
  }

  std::mt19937 random_;
  MessageId next_id_ = 1;
};

// What a record is about: "s:" and a client id, "t:" and a retained topic,
// or nothing (a body). `topics` names the bodies seen so far.
std::string item_of(const Record& record, const std::map<MessageId, std::string>& topics) {
  return std::visit(
      [&](const auto& r) -> std::string {
        using R = std::decay_t<decltype(r)>;
        if constexpr (std::is_same_v<R, MessagePut> || std::is_same_v<R, SnapshotEnd> ||
                      std::is_same_v<R, record::Slice>) {
          return "";
        } else if constexpr (std::is_same_v<R, RetainedSet>) {
          return "t:" + topics.at(r.id);
        } else if constexpr (std::is_same_v<R, RetainedClear>) {
          return "t:" + r.topic;
        } else if constexpr (std::is_same_v<R, MessagePutInflight>) {
          return "s:" + r.push.client_id;  // a log record only: snapshots hold the two it is made of
        } else {
          return "s:" + r.client_id;
        }
      },
      record);
}

void note_body(const Record& record, std::map<MessageId, std::string>& topics) {
  if (const auto* put = std::get_if<MessagePut>(&record)) topics[put->id] = std::string(put->message->topic());
}

// One slice per item: its records (with every body, as a slice carries the
// bodies its entries need) as of `captured_at`.
struct TakenSlice {
  Sequence captured_at = 0;
  std::vector<Record> records;
};

size_t records_before(const std::vector<Batch>& log, size_t batches) {
  size_t sequence = 0;
  for (size_t b = 0; b < batches; ++b) sequence += log[b].size();
  return sequence;
}

// Items in the order the slices walk them (topics, then client ids), each
// captured after a batch at or after `first_batch`, never going back.
std::vector<TakenSlice> take_slices(const std::vector<Batch>& log, size_t first_batch, std::mt19937& random) {
  std::vector<std::string> items;
  for (const std::string& t : kTopics) items.push_back("t:" + t);
  for (const std::string& c : kClients) items.push_back("s:" + c);
  std::vector<TakenSlice> slices;
  size_t batch = first_batch;
  for (const std::string& item : items) {
    batch = std::uniform_int_distribution<size_t>(batch, log.size())(random);
    TakenSlice slice{records_before(log, batch), {}};
    std::map<MessageId, std::string> topics;
    state_after(log, batch).for_each_record([&](const Record& r) {
      note_body(r, topics);
      const std::string about = item_of(r, topics);
      if (about.empty() || about == item) slice.records.push_back(r);
    });
    slices.push_back(std::move(slice));
  }
  return slices;
}

const std::string kDir = "/db";

void write_snapshot_file(MemoryEnv& env, Sequence sequence, const std::vector<TakenSlice>& slices) {
  auto writer = SnapshotWriter::start(env, kDir, sequence);
  ASSERT_TRUE(writer.ok());
  for (const TakenSlice& slice : slices) {
    writer->begin_slice(slice.captured_at);
    for (const Record& r : slice.records) writer->add(r);
  }
  ASSERT_TRUE(writer->finish().ok());
  ASSERT_TRUE(SnapshotWriter::publish(env, kDir).ok());
}

void write_log_file(MemoryEnv& env, const std::vector<Batch>& log, size_t first_batch) {
  const Sequence first = records_before(log, first_batch) + 1;
  std::string bytes = frame::file_header(frame::kSegmentMagic, first);
  Sequence sequence = first;
  for (size_t b = first_batch; b < log.size(); ++b) {
    for (size_t i = 0; i < log[b].size(); ++i) frame::append(bytes, log[b][i], i + 1 == log[b].size(), sequence++);
  }
  env.set_contents(kDir + "/" + frame::segment_name(first), std::move(bytes));
}

// Recovery (the store's own) from a snapshot of `slices` taken from
// `first_batch` on, and the log from there.
State recover_from(const std::vector<Batch>& log, size_t first_batch, const std::vector<TakenSlice>& slices) {
  MemoryEnv env;
  EXPECT_TRUE(env.create_dir(kDir).ok());
  write_snapshot_file(env, records_before(log, first_batch), slices);
  write_log_file(env, log, first_batch);
  auto recovered = store::recover(env, kDir, 0);
  EXPECT_TRUE(recovered.ok());
  EXPECT_TRUE(recovered->report.set_aside.empty());
  Recovery recovery = std::move(*recovered);
  return std::move(recovery.state);
}

TEST(FuzzySnapshot, SkippingWhatEachItemsSliceHoldsRebuildsTheWholeLog) {
  std::mt19937 random(7);
  for (uint32_t seed = 1; seed <= 300; ++seed) {
    const std::vector<Batch> log = History(seed).make(60);
    const State exact = state_after(log, log.size());
    const size_t first_batch = std::uniform_int_distribution<size_t>(0, log.size())(random);
    const std::vector<TakenSlice> slices = take_slices(log, first_batch, random);
    ASSERT_TRUE(recover_from(log, first_batch, slices) == exact) << "seed " << seed << ", replay from batch "
                                                                 << first_batch;
  }
}

// The rule is needed: replaying every record from S0 onto the same snapshot
// (no skipping) goes wrong for some histories, which shows the test can fail.
TEST(FuzzySnapshot, ReplayingEverythingOntoTheSlicesIsNotExact) {
  std::mt19937 random(7);
  size_t wrong = 0;
  for (uint32_t seed = 1; seed <= 300; ++seed) {
    const std::vector<Batch> log = History(seed).make(60);
    const State exact = state_after(log, log.size());
    const size_t first_batch = std::uniform_int_distribution<size_t>(0, log.size())(random);
    std::vector<TakenSlice> slices = take_slices(log, first_batch, random);
    for (TakenSlice& slice : slices) slice.captured_at = records_before(log, first_batch);
    if (!(recover_from(log, first_batch, slices) == exact)) ++wrong;
  }
  EXPECT_GT(wrong, 0u);
}

}  // namespace
}  // namespace stellwerk::store

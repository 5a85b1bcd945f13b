// The broker over a real store on an in-memory file system: what it
// acknowledged comes back after the broker is dropped and rebuilt from the
// recovered state, as after kill -9.
#include <gtest/gtest.h>

#include "stored_broker.h"

namespace stellwerk::broker::testing {
namespace {

using mqtt::PacketType;
using mqtt::QoS;
using mqtt::Version;

class PersistenceTest : public StoredBrokerTest {
 protected:
  // Starts the broker; the v5 session "keeper" subscribes to "q" at QoS 1 and
  // goes offline; connection 2 publishes `payloads` to "q" at QoS 1 and 2 in turn.
  void publish_to_offline_keeper(std::initializer_list<const char*> payloads) {
    start();
    harness->connect(1, persistent("keeper", Version::v5));
    harness->send(1, subscribe(1, "q", QoS::at_least_once));
    harness->broker.on_close(1, "gone", harness->clock.now());
    harness->connect(2, "pub", Version::v5);
    uint16_t packet_id = 0;
    for (const char* payload : payloads) {
      ++packet_id;
      harness->send(2, publish("q", payload, packet_id % 2 == 1 ? QoS::at_least_once : QoS::exactly_once, packet_id));
    }
  }
};

TEST_F(PersistenceTest, RetainedMessageSurvivesRestart) {
  start();
  harness->connect(1, "pub", Version::v311);
  harness->send(1, publish("state/a", "on", QoS::at_least_once, 1, true));
  crash();
  start();
  harness->connect(2, "sub", Version::v311);
  auto reply = harness->send(2, subscribe(1, "state/#"));
  ASSERT_EQ(reply.size(), 2u);
  EXPECT_EQ(as<mqtt::Publish>(reply[1]).payload, "on");
}

TEST_F(PersistenceTest, QueuedMessagesAndSubscriptionsSurviveRestart) {
  publish_to_offline_keeper({"first", "second"});
  crash();
  start();
  auto reply = harness->connect(3, persistent("keeper", Version::v5));
  ASSERT_EQ(reply.size(), 3u);
  EXPECT_TRUE(as<mqtt::Connack>(reply[0]).session_present);
  EXPECT_EQ(as<mqtt::Publish>(reply[1]).payload, "first");
  EXPECT_EQ(as<mqtt::Publish>(reply[2]).payload, "second");
  // The subscription came back too.
  harness->connect(4, "pub", Version::v5);
  harness->send(4, publish("q", "third", QoS::at_least_once, 3));
  EXPECT_EQ(harness->take(3).size(), 1u);
}

// A message the session's full queue refuses was never its to deliver: the
// store does not bring it back either.
TEST_F(PersistenceTest, AMessageRefusedByAFullQueueIsNotStoredForTheSession) {
  config.queue.max_messages = 1;
  publish_to_offline_keeper({"first", "refused"});
  crash();
  start();
  auto reply = harness->connect(3, persistent("keeper", Version::v5));
  ASSERT_EQ(reply.size(), 2u);
  EXPECT_EQ(as<mqtt::Publish>(reply[1]).payload, "first");
}

// A delayed will goes out once [MQTT-3.1.3-9]: once sent, the stored session
// no longer holds it, so a restart does not find it waiting and send it again.
TEST_F(PersistenceTest, ADelayedWillSentBeforeARestartIsNotSentAgain) {
  start();
  harness->connect(1, persistent("watcher", Version::v5));
  harness->send(1, subscribe(1, "wills/#", QoS::at_least_once));
  mqtt::Connect c = persistent("dying", Version::v5);
  c.will = mqtt::Will{"wills/dying", "gone", QoS::at_least_once, false, {}};
  c.will->properties.will_delay_interval = 5;
  harness->connect(2, c);
  harness->broker.on_close(2, "network failure", harness->clock.now());
  harness->advance(std::chrono::seconds(6));
  auto sent = harness->take(1);
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(as<mqtt::Publish>(sent[0]).payload, "gone");
  harness->send(1, mqtt::Ack{PacketType::puback, as<mqtt::Publish>(sent[0]).packet_id});
  crash();
  start();
  harness->connect(3, persistent("watcher", Version::v5));
  harness->advance(std::chrono::seconds(6));
  EXPECT_TRUE(harness->take(3).empty());
}

TEST_F(PersistenceTest, InflightResentWithSamePacketIdAfterRestart_MQTT_4_4_0_1) {
  start();
  harness->connect(1, persistent("slow", Version::v311));
  harness->send(1, subscribe(1, "q", QoS::at_least_once));
  harness->connect(2, "pub", Version::v311);
  harness->send(2, publish("q", "unacked", QoS::at_least_once, 7));
  auto sent = harness->take(1);
  ASSERT_EQ(sent.size(), 1u);
  const uint16_t id = as<mqtt::Publish>(sent[0]).packet_id;
  crash();
  start();
  auto reply = harness->connect(3, persistent("slow", Version::v311));
  ASSERT_EQ(reply.size(), 2u);
  EXPECT_TRUE(as<mqtt::Publish>(reply[1]).dup);
  EXPECT_EQ(as<mqtt::Publish>(reply[1]).packet_id, id);
}

TEST_F(PersistenceTest, InboundQos2IdRemembered_MQTT_4_3_3_10) {
  start();
  harness->connect(1, persistent("watcher", Version::v311));
  harness->send(1, subscribe(1, "x", QoS::exactly_once));
  harness->connect(2, persistent("sender", Version::v311));
  harness->send(2, publish("x", "once", QoS::exactly_once, 9));
  crash();
  start();
  harness->connect(3, persistent("watcher", Version::v311));
  harness->take(3);
  harness->connect(4, persistent("sender", Version::v311));
  // The sender resends before it saw PUBREC: no second delivery.
  auto dup = publish("x", "once", QoS::exactly_once, 9);
  dup.dup = true;
  auto reply = harness->send(4, dup);
  ASSERT_EQ(reply.size(), 1u);
  EXPECT_EQ(as<mqtt::Ack>(reply[0]).type, PacketType::pubrec);
  EXPECT_TRUE(harness->take(3).empty());
}

TEST_F(PersistenceTest, AcknowledgementsWaitForTheStore) {
  class HoldingOutbox final : public Outbox {
   public:
    void send(ConnectionId, std::string_view, bool) override {}
    void close(ConnectionId) override {}
    void hold_until(uint64_t sequence) override { held = sequence; }
    uint64_t held = 0;
  };
  start();
  HoldingOutbox outbox;
  FakeClock clock;
  Broker broker(BrokerConfig{}, outbox, clock.now());
  broker.attach_store(store.get());
  broker.on_open(1, "peer", clock.now());
  std::string bytes;
  mqtt::encode(mqtt::Packet(persistent("c", Version::v311)), Version::v311, bytes);
  broker.on_data(1, std::span(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()), clock.now());
  EXPECT_GT(outbox.held, 0u);  // the CONNACK waits for the session record
}

// With deferred commits (the server's, once per worker loop turn) the
// broker's calls collect their records and hold their output for the
// sequence those records get once the caller commits them.
class DeferredCommitTest : public PersistenceTest {
 protected:
  class HoldingOutbox final : public Outbox {
   public:
    void send(ConnectionId, std::string_view, bool) override {}
    void close(ConnectionId) override {}
    void hold_until(uint64_t sequence) override { holds.push_back(sequence); }
    std::vector<uint64_t> holds;
  };

  void connect(Broker& broker, ConnectionId id, const std::string& client_id) {
    broker.on_open(id, "peer", clock.now());
    std::string bytes;
    mqtt::encode(mqtt::Packet(persistent(client_id, Version::v311)), Version::v311, bytes);
    broker.on_data(id, std::span(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()), clock.now());
  }

  FakeClock clock;
};

TEST_F(DeferredCommitTest, SeveralCallsOneCommitOneWrite) {
  start();
  HoldingOutbox outbox;
  Broker broker(BrokerConfig{}, outbox, clock.now());
  broker.attach_store(store.get());
  broker.defer_commits(true);
  const uint64_t writes_before = store->stats().writes;
  // Two connections, as two workers sharing the broker would make them.
  connect(broker, 1, "a");
  connect(broker, 2, "b");
  ASSERT_EQ(outbox.holds.size(), 2u);
  const uint64_t first = outbox.holds[0];
  const uint64_t second = outbox.holds[1];
  EXPECT_GT(second, first);  // the second CONNACK waits for both calls' records
  // Nothing committed: neither CONNACK's record can become durable.
  EXPECT_FALSE(store->wait_durable(first, std::chrono::milliseconds(20)));

  broker.commit_records();
  ASSERT_EQ(outbox.holds.size(), 3u);
  EXPECT_EQ(outbox.holds[2], second);  // the commit gave the records the sequences held for
  EXPECT_TRUE(store->wait_durable(second, std::chrono::seconds(5)));
  EXPECT_EQ(store->stats().writes, writes_before + 1);  // one group for both calls

  broker.commit_records();  // the other worker's turn end: nothing left to commit
  EXPECT_EQ(outbox.holds.size(), 3u);
}

TEST_F(DeferredCommitTest, WhatIsCommittedSurvivesACrash) {
  start();
  harness->broker.defer_commits(true);
  harness->connect(1, persistent("keeper", Version::v311));
  harness->send(1, subscribe(1, "q", QoS::at_least_once));
  harness->broker.commit_records();
  harness->broker.on_close(1, "gone", harness->clock.now());
  crash();
  start();
  auto reply = harness->connect(2, persistent("keeper", Version::v311));
  ASSERT_EQ(reply.size(), 1u);
  EXPECT_TRUE(as<mqtt::Connack>(reply[0]).session_present);
  harness->connect(3, "pub", Version::v311);
  harness->send(3, publish("q", "kept", QoS::at_least_once, 1));
  EXPECT_EQ(harness->take(2).size(), 1u);
}

TEST_F(DeferredCommitTest, RecordsNotCommittedAreNotInTheStore) {
  // Their output was held for them, so nothing acknowledged is lost.
  start();
  harness->broker.defer_commits(true);
  harness->connect(1, persistent("keeper", Version::v311));
  crash();
  start();
  auto reply = harness->connect(2, persistent("keeper", Version::v311));
  ASSERT_EQ(reply.size(), 1u);
  EXPECT_FALSE(as<mqtt::Connack>(reply[0]).session_present);
}

}  // namespace
}  // namespace stellwerk::broker::testing

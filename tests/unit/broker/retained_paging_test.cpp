// Retained messages for a new subscription are sent in chunks, paced by the
// client's output (want_drain / continue_retained) and its QoS 1/2 window,
// and never dropped by the queue limits (broker/retained_backlog.cpp).
#include <gtest/gtest.h>

#include <cstdio>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "broker/broker.h"
#include "mqtt/codec.h"

namespace stellwerk::broker {
namespace {

using mqtt::QoS;

// Records output per connection and which connections asked for a drain.
class PacingOutbox final : public Outbox {
 public:
  void send(ConnectionId id, std::string_view bytes, bool droppable) override {
    output[id] += bytes;
    if (droppable) ++droppable_sends;
  }
  void close(ConnectionId id) override { closed.insert(id); }
  void want_drain(ConnectionId id) override { drain_wanted.insert(id); }
  std::map<ConnectionId, std::string> output;
  std::set<ConnectionId> closed;
  std::set<ConnectionId> drain_wanted;
  size_t droppable_sends = 0;
};

// Denies reading topics that start with a prefix.
class DenyReadPrefix final : public AccessControl {
 public:
  explicit DenyReadPrefix(std::string prefix) : prefix_(std::move(prefix)) {}
  std::optional<bool> authenticate(uint64_t, const ClientIdentity&,
                                   const std::optional<std::string>&) override {
    return true;
  }
  bool can_publish(const ClientIdentity&, std::string_view) const override { return true; }
  bool can_subscribe(const ClientIdentity&, std::string_view) const override { return true; }
  bool can_read(const ClientIdentity&, std::string_view topic) const override {
    return !topic.starts_with(prefix_);
  }

 private:
  std::string prefix_;
};

std::string topic_of(int i) {
  char name[32];
  std::snprintf(name, sizeof(name), "t/%05d", i);
  return name;
}

constexpr int kRetained = 10000;
constexpr size_t kChunk = 1000;

class RetainedPagingTest : public ::testing::Test {
 protected:
  void make_broker(BrokerConfig config = {}, AccessControl* access = nullptr) {
    broker_ = std::make_unique<Broker>(std::move(config), outbox_, clock_.now(), access);
    std::vector<mqtt::Publish> messages;
    for (int i = 0; i < kRetained; ++i) messages.push_back(retained(topic_of(i), "v" + std::to_string(i)));
    broker_->set_retained(std::move(messages), clock_.now());
  }

  static mqtt::Publish retained(std::string topic, std::string payload, QoS qos = QoS::exactly_once) {
    mqtt::Publish p;
    p.topic = std::move(topic);
    p.payload = std::move(payload);
    p.qos = qos;
    p.retain = true;
    return p;
  }

  std::vector<mqtt::Packet> connect(ConnectionId id, const std::string& client_id, bool clean = true,
                                    mqtt::Version version = mqtt::Version::v311) {
    versions_[id] = version;
    broker_->on_open(id, "test", clock_.now());
    mqtt::Connect c;
    c.client_id = client_id;
    c.version = version;
    c.protocol_name = "MQTT";
    c.clean_start = clean;
    if (!clean && version == mqtt::Version::v5) c.properties.session_expiry_interval = 3600;
    return send(id, mqtt::Packet(std::move(c)));
  }

  std::vector<mqtt::Packet> send(ConnectionId id, const mqtt::Packet& packet) {
    std::string bytes;
    mqtt::encode(packet, versions_[id], bytes);
    broker_->on_data(id, std::span(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()),
                     clock_.now());
    return take(id);
  }

  std::vector<mqtt::Packet> subscribe(ConnectionId id, const std::string& filter, QoS qos,
                                      uint32_t identifier = 0) {
    mqtt::Subscribe s;
    s.packet_id = 1;
    s.topics.push_back({filter, mqtt::SubscriptionOptions{qos}});
    if (identifier) s.properties.subscription_identifiers.push_back(identifier);
    return send(id, mqtt::Packet(std::move(s)));
  }

  // What the server does once the output drained: one continuation.
  std::vector<mqtt::Packet> drain(ConnectionId id) {
    outbox_.drain_wanted.erase(id);
    broker_->continue_retained(id, clock_.now());
    return take(id);
  }

  std::vector<mqtt::Packet> take(ConnectionId id) {
    std::vector<mqtt::Packet> packets;
    std::string& out = outbox_.output[id];
    size_t offset = 0;
    while (offset < out.size()) {
      std::span<const uint8_t> rest(reinterpret_cast<const uint8_t*>(out.data()) + offset,
                                    out.size() - offset);
      auto scan = mqtt::scan_frame(rest);
      EXPECT_EQ(scan.status, mqtt::FrameStatus::complete);
      if (scan.status != mqtt::FrameStatus::complete) break;
      auto decoded = mqtt::decode_packet(rest.first(scan.header.total_size()), versions_[id]);
      EXPECT_TRUE(decoded.ok());
      if (!decoded) break;
      packets.push_back(std::move(decoded).value());
      offset += scan.header.total_size();
    }
    out.clear();
    return packets;
  }

  static std::vector<mqtt::Publish> publishes(const std::vector<mqtt::Packet>& packets) {
    std::vector<mqtt::Publish> out;
    for (const mqtt::Packet& p : packets) {
      if (const auto* publish = std::get_if<mqtt::Publish>(&p)) out.push_back(*publish);
    }
    return out;
  }

  // Drains connection `id` until nothing more is asked for; returns every
  // PUBLISH and checks that each continuation is one bounded chunk.
  std::vector<mqtt::Publish> drain_all(ConnectionId id, std::vector<mqtt::Publish> received, size_t& chunks) {
    while (outbox_.drain_wanted.count(id)) {
      const auto chunk = publishes(drain(id));
      EXPECT_LE(chunk.size(), kChunk);
      received.insert(received.end(), chunk.begin(), chunk.end());
      ++chunks;
    }
    return received;
  }

  // Acknowledges every QoS 1 PUBLISH as it arrives, one PUBACK at a time.
  std::vector<mqtt::Publish> ack_all(ConnectionId id, std::vector<mqtt::Publish> pending) {
    std::vector<mqtt::Publish> received;
    while (!pending.empty()) {
      mqtt::Publish next = pending.front();
      pending.erase(pending.begin());
      EXPECT_EQ(next.qos, QoS::at_least_once);
      const auto more = publishes(send(id, mqtt::Ack{mqtt::PacketType::puback, next.packet_id}));
      pending.insert(pending.end(), more.begin(), more.end());
      received.push_back(std::move(next));
    }
    return received;
  }

  static void expect_in_topic_order_once(const std::vector<mqtt::Publish>& received, int expected) {
    ASSERT_EQ(received.size(), static_cast<size_t>(expected));
    for (size_t i = 1; i < received.size(); ++i) ASSERT_LT(received[i - 1].topic, received[i].topic) << i;
    for (const mqtt::Publish& p : received) ASSERT_TRUE(p.retain) << p.topic;  // [MQTT-3.3.1-8]
  }

  FakeClock clock_;
  PacingOutbox outbox_;
  std::map<ConnectionId, mqtt::Version> versions_;
  std::unique_ptr<Broker> broker_;
};

BrokerConfig small_limits() {
  BrokerConfig config;
  config.queue.max_inflight = 20;
  config.queue.max_messages = 100;
  return config;
}

TEST_F(RetainedPagingTest, QoS0HashReceivesEveryRetainedMessageOnceInTopicOrderInChunks) {
  // [MQTT-3.3.1-6] (v3.1.1): every matching retained message is sent.
  make_broker(small_limits());
  connect(1, "sub");
  const auto first = subscribe(1, "#", QoS::at_most_once);
  ASSERT_TRUE(std::holds_alternative<mqtt::Suback>(first.front()));  // SUBACK before the messages
  auto received = publishes(first);
  EXPECT_EQ(received.size(), kChunk);
  size_t chunks = 1;
  received = drain_all(1, std::move(received), chunks);
  expect_in_topic_order_once(received, kRetained);
  EXPECT_EQ(chunks, static_cast<size_t>(kRetained) / kChunk);
  EXPECT_EQ(received.front().topic, topic_of(0));
  EXPECT_EQ(received.back().payload, "v" + std::to_string(kRetained - 1));
  // Paced by the output, so the server must never drop them.
  EXPECT_EQ(outbox_.droppable_sends, 0u);
  EXPECT_EQ(broker_->stats().publish_dropped, 0u);
}

TEST_F(RetainedPagingTest, QoS1BeyondWindowAndQueueLimitIsPulledByAcksWithoutDrops) {
  make_broker(small_limits());
  connect(1, "sub");
  auto first = publishes(subscribe(1, "#", QoS::at_least_once));
  EXPECT_EQ(first.size(), 20u);  // the window
  const auto received = ack_all(1, std::move(first));
  expect_in_topic_order_once(received, kRetained);
  EXPECT_EQ(broker_->stats().publish_dropped, 0u);
  EXPECT_TRUE(outbox_.drain_wanted.empty());  // acks paced it all
}

TEST_F(RetainedPagingTest, MixedQoSBacklogUsesBothPaces) {
  // Under a QoS 1 subscription, QoS 0 retained messages go out at QoS 0
  // (the lower of the two) and are paced by the output.
  make_broker(small_limits());
  std::vector<mqtt::Publish> low;
  for (int i = 0; i < kRetained; i += 2) low.push_back(retained(topic_of(i), "q0", QoS::at_most_once));
  broker_->set_retained(std::move(low), clock_.now());
  connect(1, "sub");
  std::vector<mqtt::Publish> received;
  std::vector<mqtt::Publish> pending = publishes(subscribe(1, "#", QoS::at_least_once));
  for (int round = 0; round < 100000 && (!pending.empty() || outbox_.drain_wanted.count(1)); ++round) {
    if (pending.empty()) {
      pending = publishes(drain(1));
      continue;
    }
    mqtt::Publish next = pending.front();
    pending.erase(pending.begin());
    if (next.qos == QoS::at_least_once) {
      const auto more = publishes(send(1, mqtt::Ack{mqtt::PacketType::puback, next.packet_id}));
      pending.insert(pending.end(), more.begin(), more.end());
    }
    received.push_back(std::move(next));
  }
  expect_in_topic_order_once(received, kRetained);
  EXPECT_EQ(received[0].qos, QoS::at_most_once);
  EXPECT_EQ(received[1].qos, QoS::at_least_once);
}

TEST_F(RetainedPagingTest, UnsubscribeMidwayStopsTheBacklog) {
  make_broker(small_limits());
  connect(1, "sub");
  EXPECT_EQ(publishes(subscribe(1, "#", QoS::at_most_once)).size(), kChunk);
  mqtt::Unsubscribe unsubscribe;
  unsubscribe.packet_id = 2;
  unsubscribe.filters.push_back("#");
  const auto reply = send(1, mqtt::Packet(std::move(unsubscribe)));
  ASSERT_EQ(reply.size(), 1u);
  EXPECT_TRUE(std::holds_alternative<mqtt::Unsuback>(reply[0]));
  EXPECT_TRUE(publishes(drain(1)).empty());
  EXPECT_TRUE(outbox_.drain_wanted.empty());
}

TEST_F(RetainedPagingTest, ResubscribeRestartsTheBacklogInsteadOfDoublingIt) {
  // [MQTT-3.8.4-4] (v5): a replaced subscription re-sends the retained messages.
  make_broker(small_limits());
  connect(1, "sub");
  EXPECT_EQ(publishes(subscribe(1, "#", QoS::at_most_once)).size(), kChunk);
  auto received = publishes(subscribe(1, "#", QoS::at_most_once));
  size_t chunks = 1;
  received = drain_all(1, std::move(received), chunks);
  expect_in_topic_order_once(received, kRetained);
}

TEST_F(RetainedPagingTest, ATopicChangedOrClearedMidwayIsSentAsItIsNow) {
  make_broker(small_limits());
  connect(1, "sub");
  connect(2, "publisher");
  auto received = publishes(subscribe(1, "#", QoS::at_most_once));
  ASSERT_EQ(received.size(), kChunk);
  send(2, mqtt::Packet(retained(topic_of(5000), "changed", QoS::at_most_once)));
  send(2, mqtt::Packet(retained(topic_of(6000), "", QoS::at_most_once)));
  // The live copy of the change reaches the subscription at once, without
  // RETAIN [MQTT-3.3.1-9] (v3.1.1).
  const auto live = publishes(take(1));
  ASSERT_EQ(live.size(), 2u);
  EXPECT_FALSE(live[0].retain);
  size_t chunks = 1;
  received = drain_all(1, std::move(received), chunks);
  expect_in_topic_order_once(received, kRetained - 1);
  std::map<std::string, std::string> by_topic;
  for (const mqtt::Publish& p : received) by_topic[p.topic] = p.payload;
  EXPECT_EQ(by_topic[topic_of(5000)], "changed");
  EXPECT_EQ(by_topic.count(topic_of(6000)), 0u);
}

TEST_F(RetainedPagingTest, TopicsTheClientMayNotReadAreSkipped) {
  DenyReadPrefix access("t/01");  // t/01000 .. t/01999
  make_broker(small_limits(), &access);
  connect(1, "sub");
  auto received = publishes(subscribe(1, "#", QoS::at_most_once));
  size_t chunks = 1;
  received = drain_all(1, std::move(received), chunks);
  expect_in_topic_order_once(received, kRetained - 1000);
  for (const mqtt::Publish& p : received) EXPECT_FALSE(p.topic.starts_with("t/01")) << p.topic;
}

TEST_F(RetainedPagingTest, OtherClientsAreServedBetweenChunks) {
  make_broker(small_limits());
  connect(1, "sub");
  connect(2, "other");
  connect(3, "listener");
  subscribe(3, "live", QoS::at_most_once);
  // The SUBSCRIBE call returns after one chunk, not after 10,000 messages.
  EXPECT_EQ(publishes(subscribe(1, "#", QoS::at_most_once)).size(), kChunk);
  size_t received = kChunk;
  while (outbox_.drain_wanted.count(1)) {
    const auto pong = send(2, mqtt::Pingreq{});
    ASSERT_EQ(pong.size(), 1u);
    EXPECT_TRUE(std::holds_alternative<mqtt::Pingresp>(pong[0]));
    send(2, mqtt::Packet(retained("live", "x", QoS::at_most_once)));
    EXPECT_EQ(publishes(take(3)).size(), 1u);
    received += publishes(drain(1)).size();
  }
  // The subscriber's "#" also saw the live messages as they happened.
  EXPECT_GE(received, static_cast<size_t>(kRetained));
}

TEST_F(RetainedPagingTest, DisconnectEndsTheBacklogAndAResumedSessionDoesNotContinueIt) {
  make_broker(small_limits());
  connect(1, "sub", /*clean=*/false);
  EXPECT_EQ(publishes(subscribe(1, "#", QoS::at_most_once)).size(), kChunk);
  broker_->on_close(1, "test", clock_.now());
  connect(4, "sub", /*clean=*/false);
  EXPECT_TRUE(publishes(drain(4)).empty());
  EXPECT_TRUE(publishes(drain(1)).empty());  // the old connection is gone
}

TEST_F(RetainedPagingTest, V5SubscriptionIdentifierIsOnEveryChunk) {
  make_broker(small_limits());
  connect(1, "sub", /*clean=*/true, mqtt::Version::v5);
  auto received = publishes(subscribe(1, "t/+", QoS::at_most_once, 7));
  size_t chunks = 1;
  received = drain_all(1, std::move(received), chunks);
  expect_in_topic_order_once(received, kRetained);
  for (const mqtt::Publish& p : received) {
    ASSERT_EQ(p.properties.subscription_identifiers, std::vector<uint32_t>{7}) << p.topic;
  }
}

TEST_F(RetainedPagingTest, SmallRetainedSetsStillArriveWithTheSuback) {
  make_broker(small_limits());
  std::vector<mqtt::Publish> few;
  for (int i = 0; i < 10; ++i) few.push_back(retained("few/" + std::to_string(i), "x"));
  broker_->set_retained(std::move(few), clock_.now());
  connect(1, "sub");
  const auto reply = subscribe(1, "few/#", QoS::at_least_once);
  EXPECT_EQ(publishes(reply).size(), 10u);  // within the window: all at once
  EXPECT_TRUE(outbox_.drain_wanted.empty());
}

}  // namespace
}  // namespace stellwerk::broker

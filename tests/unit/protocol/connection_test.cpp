// The per-connection state machine on its own: framing across arbitrary
// splits, sequence rules, deadlines under a fake clock, and the outbound
// encoder's topic aliases and size limit.
#include "protocol/connection.h"

#include <gtest/gtest.h>

namespace stellwerk::protocol {
namespace {

using mqtt::ReasonCode;
using mqtt::Version;

std::string encoded(const mqtt::Packet& packet, Version version) {
  std::string out;
  mqtt::encode(packet, version, out);
  return out;
}

std::span<const uint8_t> bytes_of(const std::string& s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

mqtt::Connect v5_connect(uint16_t keep_alive = 10) {
  mqtt::Connect c;
  c.version = Version::v5;
  c.client_id = "c";
  c.keep_alive = keep_alive;
  return c;
}

class ConnectionTest : public ::testing::Test {
 protected:
  FakeClock clock;
  Connection connection{Limits{}, clock.now()};

  void connect(mqtt::Connect c) {
    connection.feed(bytes_of(encoded(c, c.version)));
    auto packet = connection.next_packet(clock.now());
    ASSERT_TRUE(packet.ok());
    ASSERT_TRUE(packet.value().has_value());
    connection.accept_connect(c, c.keep_alive);
  }
};

TEST_F(ConnectionTest, PacketSplitAcrossEveryByteBoundaryIsReassembled) {
  const std::string bytes = encoded(v5_connect(), Version::v5);
  for (size_t i = 0; i < bytes.size(); ++i) {
    connection.feed(bytes_of(bytes.substr(i, 1)));
    auto packet = connection.next_packet(clock.now());
    ASSERT_TRUE(packet.ok());
    EXPECT_EQ(packet.value().has_value(), i + 1 == bytes.size());
  }
}

// An idle connection holds no input buffer (connection.h): what a read
// brought is kept only while part of a frame is missing.
TEST_F(ConnectionTest, OnlyTheUnfinishedFrameStaysBuffered) {
  connect(v5_connect());
  const std::string ping = encoded(mqtt::Pingreq{}, Version::v5);
  const std::string ack =
      encoded(mqtt::Ack{mqtt::PacketType::puback, 9, ReasonCode::success, {}}, Version::v5);
  connection.feed(bytes_of(ping + ack.substr(0, 1)));
  auto first = connection.next_packet(clock.now());
  ASSERT_TRUE(first.ok() && first.value().has_value());
  EXPECT_EQ(connection.buffered_bytes(), 1u);
  EXPECT_FALSE(connection.next_short_ack(clock.now()));
  connection.feed(bytes_of(ack.substr(1)));
  auto short_ack = connection.next_short_ack(clock.now());
  ASSERT_TRUE(short_ack.has_value());
  EXPECT_EQ(short_ack->packet_id, 9);
  EXPECT_EQ(connection.buffered_bytes(), 0u);
  // And the next read starts from an empty buffer again.
  connection.feed(bytes_of(ping));
  auto again = connection.next_packet(clock.now());
  ASSERT_TRUE(again.ok() && again.value().has_value());
  EXPECT_EQ(connection.buffered_bytes(), 0u);
}

TEST_F(ConnectionTest, SeveralPacketsInOneReadAreAllReturned) {
  connect(v5_connect());
  const std::string two = encoded(mqtt::Pingreq{}, Version::v5) + encoded(mqtt::Pingreq{}, Version::v5);
  connection.feed(bytes_of(two));
  int count = 0;
  while (true) {
    auto packet = connection.next_packet(clock.now());
    ASSERT_TRUE(packet.ok());
    if (!packet.value()) break;
    ++count;
  }
  EXPECT_EQ(count, 2);
  EXPECT_EQ(connection.buffered_bytes(), 0u);
}

TEST_F(ConnectionTest, ClaimedLengthOverMaximumFailsBeforeBytesArrive_MQTT_3_2_2_15) {
  connect(v5_connect());
  // PUBLISH claiming 200 MB; only the fixed header is sent.
  const std::string header = "\x30\x80\x80\x80\x60";
  connection.feed(bytes_of(header));
  auto packet = connection.next_packet(clock.now());
  ASSERT_FALSE(packet.ok());
  EXPECT_EQ(packet.error().reason, ReasonCode::packet_too_large);
  EXPECT_LT(connection.buffered_bytes(), 16u);
}

TEST_F(ConnectionTest, ConnectDeadlineBeforeConnect) {
  auto due = connection.deadline(std::chrono::seconds(10));
  ASSERT_TRUE(due);
  EXPECT_EQ(*due, clock.now() + std::chrono::seconds(10));
}

TEST_F(ConnectionTest, KeepAliveDeadlineIsOneAndAHalfIntervals_MQTT_3_1_2_22) {
  connect(v5_connect(10));
  clock.advance(std::chrono::seconds(4));
  connection.feed(bytes_of(encoded(mqtt::Pingreq{}, Version::v5)));
  ASSERT_TRUE(connection.next_packet(clock.now()).ok());
  EXPECT_EQ(*connection.deadline(std::chrono::seconds(10)), clock.now() + std::chrono::seconds(15));
}

TEST_F(ConnectionTest, ZeroKeepAliveHasNoDeadline_MQTT_3_1_2_23) {
  connect(v5_connect(0));
  EXPECT_FALSE(connection.deadline(std::chrono::seconds(10)));
}

TEST_F(ConnectionTest, ServerToClientPacketFromClientIsProtocolError) {
  connect(v5_connect());
  connection.feed(bytes_of(encoded(mqtt::Pingresp{}, Version::v5)));
  auto packet = connection.next_packet(clock.now());
  ASSERT_FALSE(packet.ok());
  EXPECT_EQ(packet.error().reason, ReasonCode::protocol_error);
}

TEST_F(ConnectionTest, UnsupportedLevelRefusesConnect_MQTT_3_1_2_2) {
  std::string bytes = encoded(v5_connect(), Version::v5);
  bytes[8] = 9;  // protocol level byte after "\x10 len \x00\x04MQTT"
  connection.feed(bytes_of(bytes));
  auto packet = connection.next_packet(clock.now());
  ASSERT_FALSE(packet.ok());
  EXPECT_TRUE(packet.error().refuse_connect);
  EXPECT_EQ(packet.error().reason, ReasonCode::unsupported_protocol_version);
}

TEST_F(ConnectionTest, OutboundTopicAliasAssignedThenReused) {
  auto c = v5_connect();
  c.properties.topic_alias_maximum = 1;
  connect(c);
  mqtt::Publish p;
  p.topic = "a/long/topic";
  p.payload = "x";
  std::string first, second, third;
  ASSERT_TRUE(connection.encode(p, first));
  ASSERT_TRUE(connection.encode(p, second));
  mqtt::Publish other = p;
  other.topic = "b";
  ASSERT_TRUE(connection.encode(other, third));
  auto decode = [](const std::string& s) {
    return std::get<mqtt::Publish>(mqtt::decode_packet(bytes_of(s), Version::v5).value());
  };
  EXPECT_EQ(decode(first).topic, "a/long/topic");
  EXPECT_EQ(decode(first).properties.topic_alias, 1);
  EXPECT_EQ(decode(second).topic, "");
  EXPECT_EQ(decode(second).properties.topic_alias, 1);
  EXPECT_EQ(decode(third).topic, "b");  // no alias left: full topic
  EXPECT_FALSE(decode(third).properties.topic_alias);
}

TEST_F(ConnectionTest, PublishOverClientMaximumIsNotEncoded_MQTT_3_1_2_25) {
  auto c = v5_connect();
  c.properties.maximum_packet_size = 50;
  connect(c);
  mqtt::Publish p;
  p.topic = "t";
  p.payload = std::string(100, 'x');
  std::string out;
  EXPECT_FALSE(connection.encode(p, out));
  EXPECT_TRUE(out.empty());
}

TEST_F(ConnectionTest, ReasonStringDroppedWhenClientAskedForNoProblemInformation_MQTT_3_1_2_29) {
  auto c = v5_connect();
  c.properties.request_problem_information = 0;
  connect(c);
  mqtt::Ack ack{mqtt::PacketType::puback, 1, ReasonCode::no_matching_subscribers};
  ack.properties.reason_string = "nobody listens";
  std::string out;
  ASSERT_TRUE(connection.encode(ack, out));
  auto decoded = std::get<mqtt::Ack>(mqtt::decode_packet(bytes_of(out), Version::v5).value());
  EXPECT_FALSE(decoded.properties.reason_string);
}

// --- the PUBLISH fast path (next_publish) ------------------------------------

// Feeds the same bytes to a connection read through next_publish() (falling
// back to next_packet()) and to one read through next_packet() only.
class PublishFastPathTest : public ::testing::Test {
 protected:
  FakeClock clock;
  Connection fast{Limits{}, clock.now()};
  Connection slow{Limits{}, clock.now()};

  void connect_both(const mqtt::Connect& c) {
    for (Connection* connection : {&fast, &slow}) {
      connection->feed(bytes_of(encoded(c, c.version)));
      auto packet = connection->next_packet(clock.now());
      ASSERT_TRUE(packet.ok() && packet.value().has_value());
      connection->accept_connect(c, c.keep_alive);
    }
  }

  // Both connections' view of `bytes`: the same PUBLISH, or the same error.
  void expect_same(const std::string& bytes) {
    fast.feed(bytes_of(bytes));
    slow.feed(bytes_of(bytes));
    mqtt::PublishFrame view;
    const bool taken = fast.next_publish(clock.now(), view);
    auto expected = slow.next_packet(clock.now());
    if (!taken) {
      auto judged = fast.next_packet(clock.now());
      ASSERT_EQ(judged.ok(), expected.ok());
      if (!expected.ok()) {
        EXPECT_EQ(judged.error().reason, expected.error().reason);
        EXPECT_EQ(judged.error().why, expected.error().why);
        return;
      }
      EXPECT_EQ(judged.value(), expected.value());
      return;
    }
    ASSERT_TRUE(expected.ok()) << expected.error().why;
    ASSERT_TRUE(expected.value().has_value());
    mqtt::Publish from_view;
    mqtt::assign_publish(std::move(view), from_view);
    EXPECT_EQ(from_view, std::get<mqtt::Publish>(*expected.value()));
    EXPECT_EQ(fast.buffered_bytes(), slow.buffered_bytes());
  }
};

mqtt::Publish publish_on(std::string topic, mqtt::QoS qos, std::optional<uint16_t> alias = std::nullopt) {
  mqtt::Publish p;
  p.topic = std::move(topic);
  p.payload = "hello";
  p.qos = qos;
  p.packet_id = qos == mqtt::QoS::at_most_once ? 0 : 5;
  p.properties.topic_alias = alias;
  return p;
}

TEST_F(PublishFastPathTest, SameAsTheSlowPathForEveryQos) {
  for (Version version : {Version::v311, Version::v5}) {
    fast = Connection{Limits{}, clock.now()};
    slow = Connection{Limits{}, clock.now()};
    auto c = v5_connect();
    c.version = version;
    connect_both(c);
    for (mqtt::QoS qos : {mqtt::QoS::at_most_once, mqtt::QoS::at_least_once, mqtt::QoS::exactly_once}) {
      mqtt::Publish p = publish_on("a/b", qos);
      p.retain = true;
      expect_same(encoded(p, version));
      p.properties.user_properties = {{"k", "v"}};
      p.properties.message_expiry_interval = 10;
      expect_same(encoded(p, version));
    }
  }
}

// [MQTT-3.3.2-8] [MQTT-3.3.2-12]: an alias set with a topic, then used alone,
// out of range, or unknown: resolved or refused exactly as next_packet does.
TEST_F(PublishFastPathTest, TopicAliasesResolveOrFailAsOnTheSlowPath_MQTT_3_3_2_8) {
  connect_both(v5_connect());
  expect_same(encoded(publish_on("long/topic", mqtt::QoS::at_least_once, 1), Version::v5));
  expect_same(encoded(publish_on("", mqtt::QoS::at_most_once, 1), Version::v5));
  expect_same(encoded(publish_on("", mqtt::QoS::at_most_once, 2), Version::v5));  // unknown
}

TEST_F(PublishFastPathTest, AliasAboveTheMaximumIsLeftForNextPacket) {
  connect_both(v5_connect());
  expect_same(encoded(publish_on("t", mqtt::QoS::at_most_once, 11), Version::v5));
}

TEST_F(PublishFastPathTest, MalformedPublishIsLeftForNextPacket_MQTT_3_3_1_4) {
  connect_both(v5_connect());
  expect_same(std::string("\x36\x06\x00\x01t\x00\x01\x00", 8));  // QoS 3
}

TEST_F(PublishFastPathTest, TooLargeIsLeftForNextPacket) {
  connect_both(v5_connect());
  mqtt::Publish big = publish_on("t", mqtt::QoS::at_most_once);
  big.payload = std::string(Limits{}.max_packet_size, 'x');
  expect_same(encoded(big, Version::v5));
}

// [MQTT-3.1.0-1]: before CONNECT, even a PUBLISH goes to next_packet's rules.
TEST_F(PublishFastPathTest, NotBeforeConnect_MQTT_3_1_0_1) {
  expect_same(encoded(publish_on("t", mqtt::QoS::at_most_once), Version::v311));
}

TEST_F(PublishFastPathTest, PartialFrameWaitsAndOtherPacketsPass) {
  connect_both(v5_connect());
  const std::string bytes = encoded(publish_on("t", mqtt::QoS::at_least_once), Version::v5);
  mqtt::PublishFrame view;
  fast.feed(bytes_of(bytes.substr(0, 3)));
  EXPECT_FALSE(fast.next_publish(clock.now(), view));
  fast.feed(bytes_of(bytes.substr(3) + encoded(mqtt::Pingreq{}, Version::v5)));
  ASSERT_TRUE(fast.next_publish(clock.now(), view));
  EXPECT_EQ(view.topic, "t");
  EXPECT_EQ(view.payload, "hello");
  EXPECT_FALSE(fast.next_publish(clock.now(), view));  // PINGREQ is next_packet's
  auto ping = fast.next_packet(clock.now());
  ASSERT_TRUE(ping.ok() && ping.value().has_value());
  EXPECT_TRUE(std::holds_alternative<mqtt::Pingreq>(*ping.value()));
  EXPECT_EQ(fast.buffered_bytes(), 0u);
}

TEST_F(PublishFastPathTest, ReceivingAPublishCountsForKeepAlive_MQTT_3_1_2_22) {
  connect_both(v5_connect(10));
  clock.advance(std::chrono::seconds(4));
  fast.feed(bytes_of(encoded(publish_on("t", mqtt::QoS::at_most_once), Version::v5)));
  mqtt::PublishFrame view;
  ASSERT_TRUE(fast.next_publish(clock.now(), view));
  EXPECT_EQ(*fast.deadline(std::chrono::seconds(10)), clock.now() + std::chrono::seconds(15));
}

}  // namespace
}  // namespace stellwerk::protocol

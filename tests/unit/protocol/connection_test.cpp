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

}  // namespace
}  // namespace stellwerk::protocol

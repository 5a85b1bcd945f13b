// Session: CONNECT / CONNACK, refusals, limits taken from CONNACK, keep-alive,
// and the server breaking the protocol. Statement ids are marked v5 or v311:
// the specs number them differently.
#include <gtest/gtest.h>

#include "fake_server.h"

namespace stellwerk::client::testing {
namespace {

using mqtt::ReasonCode;
using mqtt::Version;

class ConnectTest : public ::testing::TestWithParam<Version> {
 protected:
  Session session;
  FakeServer server{session};
};

TEST_P(ConnectTest, SendsConnectAndReportsConnected) {
  mqtt::Connect connect = connect_for(GetParam());
  connect.keep_alive = 30;
  connect.username = "user";
  connect.password = "secret";
  connect.will = mqtt::Will{"will/topic", "gone", mqtt::QoS::at_least_once, true, {}};
  ASSERT_TRUE(session.connect(connect, start_time()));
  EXPECT_EQ(session.state(), SessionState::connecting);

  auto sent = std::get<mqtt::Connect>(server.take_one());
  EXPECT_EQ(sent.version, GetParam());
  EXPECT_EQ(sent.protocol_name, GetParam() == Version::v31 ? "MQIsdp" : "MQTT");
  EXPECT_EQ(sent.client_id, "tester");
  EXPECT_EQ(sent.keep_alive, 30);
  EXPECT_EQ(sent.username, "user");
  EXPECT_EQ(sent.password, "secret");
  ASSERT_TRUE(sent.will.has_value());
  EXPECT_EQ(sent.will->topic, "will/topic");
  EXPECT_EQ(sent.will->qos, mqtt::QoS::at_least_once);
  EXPECT_TRUE(sent.will->retain);

  ASSERT_TRUE(server.deliver(mqtt::Connack{}));
  EXPECT_EQ(session.state(), SessionState::connected);
  ASSERT_EQ(server.events().size(), 1u);
  EXPECT_TRUE(std::holds_alternative<event::Connected>(server.events()[0]));
}

TEST_P(ConnectTest, RefusalIsAnErrorNamingTheReason) {
  ASSERT_TRUE(session.connect(connect_for(GetParam()), start_time()));
  auto refused = server.deliver(mqtt::Connack{false, ReasonCode::not_authorized, {}});
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().kind, ErrorKind::refused);
  EXPECT_EQ(refused.error().reason, ReasonCode::not_authorized);
  EXPECT_EQ(refused.error().message, GetParam() == Version::v5
                                         ? "connection refused: not authorized (0x87)"
                                         : "connection refused: not authorized (return code 5)");
  EXPECT_EQ(session.state(), SessionState::closed);
}

TEST_P(ConnectTest, PacketBeforeConnackIsAProtocolError) {
  // [MQTT-3.2.0-1] (same id in 3.1.1 and 5): CONNACK comes first.
  ASSERT_TRUE(session.connect(connect_for(GetParam()), start_time()));
  server.take_sent();
  auto result = server.deliver(message("a", mqtt::QoS::at_most_once));
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().kind, ErrorKind::protocol);
  EXPECT_EQ(session.state(), SessionState::closed);
}

TEST_P(ConnectTest, SecondConnackIsAProtocolError) {
  connect_session(session, server, connect_for(GetParam()));
  EXPECT_FALSE(server.deliver(mqtt::Connack{}));
}

TEST_P(ConnectTest, MalformedBytesCloseTheConnection) {
  connect_session(session, server, connect_for(GetParam()));
  // Packet type 0 is reserved: the fixed header alone is malformed.
  auto result = server.feed(std::string("\x00\x00", 2));
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().reason, ReasonCode::malformed_packet);
  EXPECT_EQ(session.state(), SessionState::closed);
}

TEST_P(ConnectTest, ServerOnlyPacketsAreProtocolErrors) {
  connect_session(session, server, connect_for(GetParam()));
  auto result = server.deliver(mqtt::Pingreq{});
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().reason, ReasonCode::protocol_error);
}

TEST_P(ConnectTest, PacketSplitAcrossReadsIsReassembled) {
  ASSERT_TRUE(session.connect(connect_for(GetParam()), start_time()));
  server.take_sent();
  std::string bytes = FakeServer::bytes_of(mqtt::Connack{}, GetParam());
  bytes +=
      FakeServer::bytes_of(message("split/topic", mqtt::QoS::at_most_once, "payload"), GetParam());
  for (char byte : bytes) ASSERT_TRUE(server.feed(std::string(1, byte)));
  auto events = server.take_events();
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(std::get<event::Message>(events[1]).publish.topic, "split/topic");
}

TEST_P(ConnectTest, KeepAliveSendsPingreqAfterAQuietPeriod) {
  // v5[MQTT-3.1.2-20] / v311[MQTT-3.1.2-23]: PINGREQ when nothing else was sent.
  mqtt::Connect connect = connect_for(GetParam());
  connect.keep_alive = 10;
  connect_session(session, server, connect);
  ASSERT_EQ(session.next_deadline(), start_time() + seconds(10));
  ASSERT_TRUE(session.on_timer(start_time() + seconds(9)));
  EXPECT_TRUE(server.take_sent().empty());
  ASSERT_TRUE(session.on_timer(start_time() + seconds(10)));
  EXPECT_TRUE(std::holds_alternative<mqtt::Pingreq>(server.take_one()));
  ASSERT_TRUE(server.deliver(mqtt::Pingresp{}, start_time() + seconds(11)));
  EXPECT_EQ(session.next_deadline(), start_time() + seconds(20));
}

TEST_P(ConnectTest, SendingResetsTheKeepAliveTimer) {
  mqtt::Connect connect = connect_for(GetParam());
  connect.keep_alive = 10;
  connect_session(session, server, connect);
  ASSERT_TRUE(session.publish(message("a", mqtt::QoS::at_most_once), start_time() + seconds(7)));
  EXPECT_EQ(session.next_deadline(), start_time() + seconds(17));
}

TEST_P(ConnectTest, MissingPingrespIsATimeout) {
  mqtt::Connect connect = connect_for(GetParam());
  connect.keep_alive = 10;
  connect_session(session, server, connect);
  ASSERT_TRUE(session.on_timer(start_time() + seconds(10)));
  server.take_sent();
  auto late = session.on_timer(start_time() + seconds(20));
  ASSERT_FALSE(late);
  EXPECT_EQ(late.error().kind, ErrorKind::timeout);
  EXPECT_EQ(session.state(), SessionState::closed);
}

TEST_P(ConnectTest, ZeroKeepAliveHasNoTimer) {
  mqtt::Connect connect = connect_for(GetParam());
  connect.keep_alive = 0;
  connect_session(session, server, connect);
  EXPECT_FALSE(session.next_deadline().has_value());
}

TEST_P(ConnectTest, DisconnectIsSentOnceAndCloses) {
  connect_session(session, server, connect_for(GetParam()));
  session.disconnect({}, start_time());
  EXPECT_TRUE(std::holds_alternative<mqtt::Disconnect>(server.take_one()));
  EXPECT_EQ(session.state(), SessionState::closed);
  session.disconnect({}, start_time());
  EXPECT_TRUE(server.take_sent().empty());
}

INSTANTIATE_TEST_SUITE_P(Versions, ConnectTest,
                         ::testing::Values(Version::v31, Version::v311, Version::v5),
                         [](const auto& info) {
                           switch (info.param) {
                             case Version::v31: return std::string("v31");
                             case Version::v311: return std::string("v311");
                             default: return std::string("v5");
                           }
                         });

TEST(ConnectCheckTest, V31NeedsAShortClientId) {
  Session session;
  EXPECT_FALSE(session.connect(connect_for(Version::v31, ""), start_time()));
  EXPECT_FALSE(session.connect(connect_for(Version::v31, std::string(24, 'x')), start_time()));
  EXPECT_TRUE(session.connect(connect_for(Version::v31, std::string(23, 'x')), start_time()));
}

TEST(ConnectCheckTest, EmptyIdNeedsCleanSessionIn311) {
  // v311[MQTT-3.1.3-7]
  Session session;
  mqtt::Connect connect = connect_for(Version::v311, "");
  connect.clean_start = false;
  auto result = session.connect(connect, start_time());
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().kind, ErrorKind::usage);
  connect.clean_start = true;
  EXPECT_TRUE(session.connect(connect, start_time()));
}

TEST(ConnectCheckTest, PasswordWithoutUserNameOnlyInV5) {
  // v311[MQTT-3.1.2-22]; MQTT 5 dropped that rule.
  Session session;
  mqtt::Connect connect = connect_for(Version::v311);
  connect.password = "secret";
  EXPECT_FALSE(session.connect(connect, start_time()));
  connect.version = Version::v5;
  EXPECT_TRUE(session.connect(connect, start_time()));
}

TEST(ConnectCheckTest, WillTopicMustBeATopicName) {
  Session session;
  mqtt::Connect connect = connect_for(Version::v311);
  connect.will = mqtt::Will{"will/#", "x", mqtt::QoS::at_most_once, false, {}};
  EXPECT_FALSE(session.connect(connect, start_time()));
}

class V5ConnectTest : public ::testing::Test {
 protected:
  Session session;
  FakeServer server{session};
};

TEST_F(V5ConnectTest, ConnackPropertiesBecomeLimits) {
  mqtt::Connack connack;
  connack.properties.receive_maximum = 2;
  connack.properties.maximum_qos = 1;
  connack.properties.retain_available = 0;
  connack.properties.maximum_packet_size = 100;
  connack.properties.topic_alias_maximum = 5;
  connack.properties.assigned_client_identifier = "assigned-7";
  connack.properties.server_keep_alive = 5;
  connect_session(session, server, connect_for(Version::v5, ""), connack);
  const ServerLimits& limits = session.server_limits();
  EXPECT_EQ(limits.receive_maximum, 2);
  EXPECT_EQ(limits.maximum_qos, mqtt::QoS::at_least_once);
  EXPECT_FALSE(limits.retain_available);
  EXPECT_EQ(limits.maximum_packet_size, 100u);
  EXPECT_EQ(limits.topic_alias_maximum, 5);
  EXPECT_EQ(session.client_id(), "assigned-7");
  // v5[MQTT-3.1.2-21]: the server's keep-alive replaces ours.
  EXPECT_EQ(session.keep_alive(), 5);
  EXPECT_EQ(session.next_deadline(), start_time() + seconds(5));
}

TEST_F(V5ConnectTest, RefusalCarriesTheReasonString) {
  ASSERT_TRUE(session.connect(connect_for(Version::v5), start_time()));
  mqtt::Connack connack{false, ReasonCode::banned, {}};
  connack.properties.reason_string = "go away";
  auto refused = server.deliver(connack);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().message, "connection refused: banned (0x8A): go away");
}

TEST_F(V5ConnectTest, ServerDisconnectEndsTheConnection) {
  connect_session(session, server, connect_for(Version::v5));
  auto closed = server.deliver(mqtt::Disconnect{ReasonCode::session_taken_over, {}});
  ASSERT_FALSE(closed);
  EXPECT_EQ(closed.error().kind, ErrorKind::closed);
  EXPECT_EQ(closed.error().message, "disconnected by server: session taken over (0x8E)");
  EXPECT_EQ(session.state(), SessionState::closed);
}

TEST_F(V5ConnectTest, ProtocolErrorIsExplainedWithDisconnect) {
  connect_session(session, server, connect_for(Version::v5));
  ASSERT_FALSE(server.deliver(mqtt::Pingreq{}));
  auto disconnect = std::get<mqtt::Disconnect>(server.take_one());
  EXPECT_EQ(disconnect.reason, ReasonCode::protocol_error);
}

TEST_F(V5ConnectTest, PacketAboveOurMaximumSizeIsRefused) {
  mqtt::Connect connect = connect_for(Version::v5);
  connect.properties.maximum_packet_size = 20;
  connect_session(session, server, connect);
  auto result = server.deliver(message("t", mqtt::QoS::at_most_once, std::string(40, 'x')));
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().reason, ReasonCode::packet_too_large);
  EXPECT_EQ(std::get<mqtt::Disconnect>(server.take_one()).reason, ReasonCode::packet_too_large);
}

TEST_F(V5ConnectTest, ObserverSeesBothDirections) {
  std::vector<std::pair<Direction, mqtt::PacketType>> seen;
  session.set_observer([&](Direction direction, const mqtt::Packet& packet) {
    seen.emplace_back(direction, mqtt::packet_type(packet));
  });
  connect_session(session, server, connect_for(Version::v5));
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[0], std::make_pair(Direction::sent, mqtt::PacketType::connect));
  EXPECT_EQ(seen[1], std::make_pair(Direction::received, mqtt::PacketType::connack));
}

}  // namespace
}  // namespace stellwerk::client::testing

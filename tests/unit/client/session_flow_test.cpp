// Session: QoS 0/1/2 flows in both directions, packet ids, SUBSCRIBE /
// UNSUBSCRIBE, the server's limits on what the client sends, and topic
// aliases. Statement ids are marked v5 or v311: the specs number them
// differently.
#include <gtest/gtest.h>

#include <set>

#include "fake_server.h"

namespace stellwerk::client::testing {
namespace {

using mqtt::PacketType;
using mqtt::QoS;
using mqtt::ReasonCode;
using mqtt::Version;

class FlowTest : public ::testing::TestWithParam<Version> {
 protected:
  void SetUp() override { connect_session(session, server, connect_for(GetParam())); }

  mqtt::Ack ack(PacketType type, uint16_t id, ReasonCode reason = ReasonCode::success) {
    return mqtt::Ack{type, id, reason, {}};
  }

  Session session;
  FakeServer server{session};
};

TEST_P(FlowTest, Qos0PublishNeedsNoAnswer) {
  auto id = session.publish(message("a/b", QoS::at_most_once), start_time());
  ASSERT_TRUE(id);
  EXPECT_EQ(id.value(), 0);
  auto sent = std::get<mqtt::Publish>(server.take_one());
  EXPECT_EQ(sent.topic, "a/b");
  EXPECT_EQ(sent.payload, "data");
  EXPECT_FALSE(sent.dup);  // v5[MQTT-4.3.1-1]
  EXPECT_EQ(session.publishes_in_flight(), 0u);
}

TEST_P(FlowTest, Qos1PublishEndsWithPuback) {
  // v5[MQTT-4.3.2-1] v5[MQTT-4.3.2-2] v5[MQTT-4.3.2-3]: unused id, DUP 0,
  // unacknowledged until PUBACK.
  auto id = session.publish(message("a", QoS::at_least_once), start_time());
  ASSERT_TRUE(id);
  EXPECT_NE(id.value(), 0);
  auto sent = std::get<mqtt::Publish>(server.take_one());
  EXPECT_EQ(sent.packet_id, id.value());
  EXPECT_EQ(sent.qos, QoS::at_least_once);
  EXPECT_FALSE(sent.dup);
  EXPECT_EQ(session.publishes_in_flight(), 1u);

  ASSERT_TRUE(server.deliver(ack(PacketType::puback, id.value())));
  EXPECT_EQ(session.publishes_in_flight(), 0u);
  auto events = server.take_events();
  ASSERT_EQ(events.size(), 1u);
  const auto& done = std::get<event::PublishDone>(events[0]);
  EXPECT_EQ(done.packet_id, id.value());
  EXPECT_EQ(done.reason, ReasonCode::success);
}

TEST_P(FlowTest, Qos2PublishGoesThroughPubrecPubrelPubcomp) {
  auto id = session.publish(message("a", QoS::exactly_once), start_time());
  ASSERT_TRUE(id);
  server.take_sent();
  // v5[MQTT-4.3.3-4]: PUBREL with the same id answers PUBREC.
  ASSERT_TRUE(server.deliver(ack(PacketType::pubrec, id.value())));
  auto pubrel = std::get<mqtt::Ack>(server.take_one());
  EXPECT_EQ(pubrel.type, PacketType::pubrel);
  EXPECT_EQ(pubrel.packet_id, id.value());
  EXPECT_TRUE(server.take_events().empty());
  EXPECT_EQ(session.publishes_in_flight(), 1u);  // v5[MQTT-4.3.3-5]

  ASSERT_TRUE(server.deliver(ack(PacketType::pubcomp, id.value())));
  EXPECT_EQ(session.publishes_in_flight(), 0u);
  auto events = server.take_events();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(std::get<event::PublishDone>(events[0]).packet_id, id.value());
}

TEST_P(FlowTest, RepeatedPubrecGetsPubrelAgain) {
  auto id = session.publish(message("a", QoS::exactly_once), start_time());
  server.take_sent();
  ASSERT_TRUE(server.deliver(ack(PacketType::pubrec, id.value())));
  ASSERT_TRUE(server.deliver(ack(PacketType::pubrec, id.value())));
  auto sent = server.take_sent();
  ASSERT_EQ(sent.size(), 2u);
  EXPECT_EQ(std::get<mqtt::Ack>(sent[1]).type, PacketType::pubrel);
}

TEST_P(FlowTest, PacketIdsAreNotReusedWhileInFlight) {
  // v5[MQTT-2.2.1-3] / v311[MQTT-2.3.1-2]
  std::set<uint16_t> ids;
  for (int i = 0; i < 100; ++i) {
    auto id = session.publish(message("a", QoS::at_least_once), start_time());
    ASSERT_TRUE(id);
    EXPECT_TRUE(ids.insert(id.value()).second) << "id " << id.value() << " handed out twice";
  }
  auto subscribe = session.subscribe(mqtt::Subscribe{0, {}, {{"x", {}}}}, start_time());
  ASSERT_TRUE(subscribe);
  EXPECT_EQ(ids.count(subscribe.value()), 0u);
}

TEST_P(FlowTest, IncomingQos0IsDeliveredWithoutAnswer) {
  ASSERT_TRUE(server.deliver(message("in", QoS::at_most_once, "hello")));
  auto events = server.take_events();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(std::get<event::Message>(events[0]).publish.payload, "hello");
  EXPECT_TRUE(server.take_sent().empty());
}

TEST_P(FlowTest, IncomingQos1IsDeliveredAndAcknowledged) {
  mqtt::Publish in = message("in", QoS::at_least_once);
  in.packet_id = 42;
  ASSERT_TRUE(server.deliver(in));
  EXPECT_EQ(server.take_events().size(), 1u);
  // v5[MQTT-4.3.2-4] / v311[MQTT-4.3.2-2]: PUBACK with the PUBLISH's id.
  auto puback = std::get<mqtt::Ack>(server.take_one());
  EXPECT_EQ(puback.type, PacketType::puback);
  EXPECT_EQ(puback.packet_id, 42);
}

TEST_P(FlowTest, IncomingQos2IsDeliveredOnceOnPubrel) {
  mqtt::Publish in = message("in", QoS::exactly_once, "exactly once");
  in.packet_id = 7;
  ASSERT_TRUE(server.deliver(in));
  // v5[MQTT-4.3.3-8] / v311[MQTT-4.3.3-2]: PUBREC with the PUBLISH's id.
  auto pubrec = std::get<mqtt::Ack>(server.take_one());
  EXPECT_EQ(pubrec.type, PacketType::pubrec);
  EXPECT_EQ(pubrec.packet_id, 7);
  EXPECT_TRUE(server.take_events().empty());  // held until PUBREL

  // v5[MQTT-4.3.3-10]: a re-sent PUBLISH before PUBREL is acknowledged again.
  in.dup = true;
  ASSERT_TRUE(server.deliver(in));
  EXPECT_EQ(std::get<mqtt::Ack>(server.take_one()).type, PacketType::pubrec);

  // v5[MQTT-4.3.3-11]: PUBCOMP answers PUBREL; the message is delivered once.
  ASSERT_TRUE(server.deliver(ack(PacketType::pubrel, 7)));
  auto pubcomp = std::get<mqtt::Ack>(server.take_one());
  EXPECT_EQ(pubcomp.type, PacketType::pubcomp);
  EXPECT_EQ(pubcomp.packet_id, 7);
  EXPECT_EQ(pubcomp.reason, ReasonCode::success);
  auto events = server.take_events();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(std::get<event::Message>(events[0]).publish.payload, "exactly once");

  // v5[MQTT-4.3.3-12]: after PUBCOMP the same id is a new message.
  in.dup = false;
  ASSERT_TRUE(server.deliver(in));
  ASSERT_TRUE(server.deliver(ack(PacketType::pubrel, 7)));
  EXPECT_EQ(server.take_events().size(), 1u);
}

TEST_P(FlowTest, UnknownPubrelStillGetsPubcomp) {
  ASSERT_TRUE(server.deliver(ack(PacketType::pubrel, 99)));
  EXPECT_TRUE(server.take_events().empty());
  auto pubcomp = std::get<mqtt::Ack>(server.take_one());
  EXPECT_EQ(pubcomp.type, PacketType::pubcomp);
  EXPECT_EQ(pubcomp.packet_id, 99);
  if (GetParam() == Version::v5) {
    EXPECT_EQ(pubcomp.reason, ReasonCode::packet_identifier_not_found);
  }
}

TEST_P(FlowTest, AcksForUnknownIdsAreIgnored) {
  ASSERT_TRUE(server.deliver(ack(PacketType::puback, 5)));
  ASSERT_TRUE(server.deliver(ack(PacketType::pubcomp, 6)));
  EXPECT_TRUE(server.take_events().empty());
  EXPECT_EQ(session.state(), SessionState::connected);
}

TEST_P(FlowTest, SubscribeAndUnsubscribeAreMatchedByPacketId) {
  mqtt::Subscribe request;
  request.topics = {{"a/+", {QoS::exactly_once}}, {"b/#", {QoS::at_least_once}}};
  auto id = session.subscribe(request, start_time());
  ASSERT_TRUE(id);
  auto sent = std::get<mqtt::Subscribe>(server.take_one());
  EXPECT_EQ(sent.packet_id, id.value());
  ASSERT_EQ(sent.topics.size(), 2u);
  EXPECT_EQ(sent.topics[0].filter, "a/+");
  EXPECT_EQ(sent.topics[0].options.max_qos, QoS::exactly_once);
  EXPECT_EQ(session.requests_pending(), 1u);

  ASSERT_TRUE(server.deliver(
      mqtt::Suback{id.value(), {}, {ReasonCode::granted_qos_2, ReasonCode::granted_qos_1}}));
  auto events = server.take_events();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(std::get<event::Subscribed>(events[0]).suback.reasons.size(), 2u);
  EXPECT_EQ(session.requests_pending(), 0u);

  auto unsub_id = session.unsubscribe(mqtt::Unsubscribe{0, {}, {"a/+"}}, start_time());
  ASSERT_TRUE(unsub_id);
  EXPECT_EQ(std::get<mqtt::Unsubscribe>(server.take_one()).filters[0], "a/+");
  ASSERT_TRUE(server.deliver(mqtt::Unsuback{unsub_id.value(), {}, {ReasonCode::success}}));
  events = server.take_events();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_TRUE(std::holds_alternative<event::Unsubscribed>(events[0]));
}

TEST_P(FlowTest, InvalidTopicsAreRefusedBeforeSending) {
  EXPECT_FALSE(session.publish(message("a/#", QoS::at_most_once), start_time()));
  EXPECT_FALSE(session.publish(message("", QoS::at_most_once), start_time()));
  EXPECT_FALSE(session.subscribe(mqtt::Subscribe{0, {}, {{"a/#/b", {}}}}, start_time()));
  EXPECT_FALSE(session.subscribe(mqtt::Subscribe{}, start_time()));
  EXPECT_FALSE(session.unsubscribe(mqtt::Unsubscribe{0, {}, {"a+"}}, start_time()));
  EXPECT_TRUE(server.take_sent().empty());
}

INSTANTIATE_TEST_SUITE_P(Versions, FlowTest,
                         ::testing::Values(Version::v31, Version::v311, Version::v5),
                         [](const auto& info) {
                           switch (info.param) {
                             case Version::v31: return std::string("v31");
                             case Version::v311: return std::string("v311");
                             default: return std::string("v5");
                           }
                         });

TEST(NotConnectedTest, NothingButConnectBeforeConnack) {
  Session session;
  EXPECT_FALSE(session.publish(message("a", QoS::at_most_once), start_time()));
  ASSERT_TRUE(session.connect(connect_for(Version::v311), start_time()));
  EXPECT_FALSE(session.publish(message("a", QoS::at_most_once), start_time()));
  EXPECT_FALSE(session.subscribe(mqtt::Subscribe{0, {}, {{"a", {}}}}, start_time()));
}

class LimitsTest : public ::testing::Test {
 protected:
  void connect_with(mqtt::Properties properties, SessionOptions options = {}) {
    session = Session(options);
    mqtt::Connack connack;
    connack.properties = std::move(properties);
    connect_session(session, server, connect_for(Version::v5), connack);
  }

  Session session;
  FakeServer server{session};
};

TEST_F(LimitsTest, ReceiveMaximumBoundsQosPublishes) {
  // v5[MQTT-4.9.0-2]: no QoS > 0 PUBLISH while the send quota is zero.
  mqtt::Properties properties;
  properties.receive_maximum = 2;
  connect_with(properties);
  ASSERT_TRUE(session.publish(message("a", QoS::at_least_once), start_time()));
  ASSERT_TRUE(session.publish(message("a", QoS::exactly_once), start_time()));
  EXPECT_FALSE(session.can_publish());
  auto refused = session.publish(message("a", QoS::at_least_once), start_time());
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().reason, ReasonCode::receive_maximum_exceeded);
  // v5[MQTT-4.9.0-3]: QoS 0 is not counted.
  EXPECT_TRUE(session.publish(message("a", QoS::at_most_once), start_time()));
  auto sent = server.take_sent();
  ASSERT_TRUE(server.deliver(mqtt::Ack{
      PacketType::puback, std::get<mqtt::Publish>(sent[0]).packet_id, ReasonCode::success, {}}));
  EXPECT_TRUE(session.can_publish());
}

TEST_F(LimitsTest, MaximumQosIsEnforced) {
  // v5[MQTT-3.2.2-11]
  mqtt::Properties properties;
  properties.maximum_qos = 0;
  connect_with(properties);
  auto refused = session.publish(message("a", QoS::at_least_once), start_time());
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().kind, ErrorKind::usage);
  EXPECT_EQ(refused.error().reason, ReasonCode::qos_not_supported);
  EXPECT_TRUE(session.publish(message("a", QoS::at_most_once), start_time()));
}

TEST_F(LimitsTest, RetainUnavailableIsEnforced) {
  // v5[MQTT-3.2.2-14]
  mqtt::Properties properties;
  properties.retain_available = 0;
  connect_with(properties);
  mqtt::Publish retained = message("a", QoS::at_most_once);
  retained.retain = true;
  EXPECT_FALSE(session.publish(retained, start_time()));
}

TEST_F(LimitsTest, MaximumPacketSizeIsEnforced) {
  // v5[MQTT-3.2.2-15]
  mqtt::Properties properties;
  properties.maximum_packet_size = 50;
  connect_with(properties);
  auto refused =
      session.publish(message("a", QoS::at_most_once, std::string(60, 'x')), start_time());
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().reason, ReasonCode::packet_too_large);
  EXPECT_TRUE(session.publish(message("a", QoS::at_most_once, "small"), start_time()));
}

TEST_F(LimitsTest, PubrecWithFailureEndsTheFlow) {
  connect_with({});
  auto id = session.publish(message("a", QoS::exactly_once), start_time());
  server.take_sent();
  ASSERT_TRUE(
      server.deliver(mqtt::Ack{PacketType::pubrec, id.value(), ReasonCode::not_authorized, {}}));
  EXPECT_TRUE(server.take_sent().empty());  // no PUBREL after a failed PUBREC
  auto events = server.take_events();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(std::get<event::PublishDone>(events[0]).reason, ReasonCode::not_authorized);
  EXPECT_EQ(session.publishes_in_flight(), 0u);
}

TEST_F(LimitsTest, OutgoingAliasesReplaceRepeatedTopics) {
  mqtt::Properties properties;
  properties.topic_alias_maximum = 1;
  connect_with(properties, SessionOptions{true});
  ASSERT_TRUE(session.publish(message("long/topic", QoS::at_most_once), start_time()));
  ASSERT_TRUE(session.publish(message("long/topic", QoS::at_most_once), start_time()));
  ASSERT_TRUE(session.publish(message("other", QoS::at_most_once), start_time()));
  auto sent = server.take_sent();
  ASSERT_EQ(sent.size(), 3u);
  const auto& first = std::get<mqtt::Publish>(sent[0]);
  EXPECT_EQ(first.topic, "long/topic");
  EXPECT_EQ(first.properties.topic_alias, 1);
  const auto& second = std::get<mqtt::Publish>(sent[1]);
  EXPECT_EQ(second.topic, "");
  EXPECT_EQ(second.properties.topic_alias, 1);
  // v5[MQTT-3.3.2-9]: no alias above the server's maximum; the table is full.
  const auto& third = std::get<mqtt::Publish>(sent[2]);
  EXPECT_EQ(third.topic, "other");
  EXPECT_FALSE(third.properties.topic_alias.has_value());
}

TEST_F(LimitsTest, NoOutgoingAliasesWithoutServerMaximum) {
  // v5[MQTT-3.2.2-18]
  connect_with({}, SessionOptions{true});
  ASSERT_TRUE(session.publish(message("t", QoS::at_most_once), start_time()));
  EXPECT_FALSE(std::get<mqtt::Publish>(server.take_one()).properties.topic_alias.has_value());
}

class IncomingAliasTest : public ::testing::Test {
 protected:
  void SetUp() override {
    mqtt::Connect connect = connect_for(Version::v5);
    connect.properties.topic_alias_maximum = 2;
    connect_session(session, server, connect);
  }

  mqtt::Publish aliased(std::string topic, uint16_t alias) {
    mqtt::Publish publish = message(std::move(topic), QoS::at_most_once);
    publish.properties.topic_alias = alias;
    return publish;
  }

  Session session;
  FakeServer server{session};
};

TEST_F(IncomingAliasTest, AliasIsResolvedToItsTopic) {
  // v5[MQTT-3.3.2-10]: aliases 1..our maximum are accepted.
  ASSERT_TRUE(server.deliver(aliased("sensors/temperature", 2)));
  ASSERT_TRUE(server.deliver(aliased("", 2)));
  auto events = server.take_events();
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(std::get<event::Message>(events[1]).publish.topic, "sensors/temperature");
}

TEST_F(IncomingAliasTest, AliasAboveOurMaximumIsRefused) {
  // v5[MQTT-3.3.2-11]
  auto result = server.deliver(aliased("t", 3));
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().reason, ReasonCode::topic_alias_invalid);
  EXPECT_EQ(std::get<mqtt::Disconnect>(server.take_one()).reason, ReasonCode::topic_alias_invalid);
}

TEST_F(IncomingAliasTest, UnknownAliasIsAProtocolError) {
  auto result = server.deliver(aliased("", 1));
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().reason, ReasonCode::protocol_error);
}

TEST_F(IncomingAliasTest, AliasesDoNotSurviveReconnect) {
  // v5[MQTT-3.3.2-7]
  ASSERT_TRUE(server.deliver(aliased("t", 1)));
  mqtt::Connect connect = connect_for(Version::v5);
  connect.properties.topic_alias_maximum = 2;
  connect_session(session, server, connect);
  EXPECT_FALSE(server.deliver(aliased("", 1)));
}

}  // namespace
}  // namespace stellwerk::client::testing

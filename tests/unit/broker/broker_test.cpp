// Behaviour of the routing core, driven packet by packet with a fake clock.
// Each test names the normative statement it checks.
#include <gtest/gtest.h>

#include "broker_harness.h"

namespace stellwerk::broker::testing {
namespace {

using mqtt::PacketType;
using mqtt::QoS;
using mqtt::ReasonCode;
using mqtt::Version;

constexpr Version kVersions[] = {Version::v311, Version::v5};

class EachVersion : public ::testing::TestWithParam<Version> {};
INSTANTIATE_TEST_SUITE_P(Broker, EachVersion, ::testing::ValuesIn(kVersions));

TEST_P(EachVersion, ConnackAcceptsWithoutSessionPresent_MQTT_3_2_2_2) {
  BrokerHarness h;
  auto reply = h.connect(1, "c1", GetParam());
  ASSERT_EQ(reply.size(), 1u);
  EXPECT_EQ(as<mqtt::Connack>(reply[0]).reason, ReasonCode::success);
  EXPECT_FALSE(as<mqtt::Connack>(reply[0]).session_present);
}

TEST(Broker, EmptyClientIdWithoutCleanSessionRejected_MQTT_3_1_3_8) {
  BrokerHarness h;
  auto reply = h.connect(1, "", Version::v311, false);
  ASSERT_EQ(reply.size(), 1u);
  EXPECT_EQ(as<mqtt::Connack>(reply[0]).reason, ReasonCode::client_identifier_not_valid);
  EXPECT_TRUE(h.closed(1));
}

TEST(Broker, V5EmptyClientIdGetsAssignedIdentifier_MQTT_3_2_2_16) {
  BrokerHarness h;
  auto reply = h.connect(1, "", Version::v5);
  ASSERT_EQ(reply.size(), 1u);
  const auto& connack = as<mqtt::Connack>(reply[0]);
  ASSERT_TRUE(connack.properties.assigned_client_identifier);
  EXPECT_FALSE(connack.properties.assigned_client_identifier->empty());
}

TEST(Broker, FirstPacketMustBeConnect_MQTT_3_1_0_1) {
  BrokerHarness h;
  h.versions[1] = Version::v311;
  h.broker.on_open(1, "peer", h.clock.now());
  h.send(1, mqtt::Pingreq{});
  EXPECT_TRUE(h.closed(1));
}

TEST(Broker, SecondConnectIsProtocolError_MQTT_3_1_0_2) {
  BrokerHarness h;
  h.connect(1, "c1", Version::v5);
  mqtt::Connect again;
  again.version = Version::v5;
  again.client_id = "c1";
  auto reply = h.send(1, again);
  ASSERT_EQ(reply.size(), 1u);
  EXPECT_EQ(as<mqtt::Disconnect>(reply[0]).reason, ReasonCode::protocol_error);
  EXPECT_TRUE(h.closed(1));
}

TEST_P(EachVersion, Qos1PublishIsAcknowledgedAndDelivered_MQTT_4_3_2_2) {
  BrokerHarness h;
  h.connect(1, "sub", GetParam());
  h.connect(2, "pub", GetParam());
  auto suback = h.send(1, subscribe(7, "a/+", QoS::at_least_once));
  ASSERT_EQ(suback.size(), 1u);
  EXPECT_EQ(as<mqtt::Suback>(suback[0]).reasons, std::vector<ReasonCode>{ReasonCode::granted_qos_1});
  auto ack = h.send(2, publish("a/b", "hello", QoS::at_least_once, 5));
  ASSERT_EQ(ack.size(), 1u);
  EXPECT_EQ(as<mqtt::Ack>(ack[0]).type, PacketType::puback);
  EXPECT_EQ(as<mqtt::Ack>(ack[0]).packet_id, 5);
  auto delivered = h.take(1);
  ASSERT_EQ(delivered.size(), 1u);
  const auto& p = as<mqtt::Publish>(delivered[0]);
  EXPECT_EQ(p.payload, "hello");
  EXPECT_EQ(p.qos, QoS::at_least_once);
  EXPECT_NE(p.packet_id, 0);
}

TEST_P(EachVersion, DeliveryQosIsMinimumOfPublishAndSubscription_MQTT_3_8_4_6) {
  BrokerHarness h;
  h.connect(1, "sub", GetParam());
  h.connect(2, "pub", GetParam());
  h.send(1, subscribe(1, "t", QoS::at_most_once));
  h.send(2, publish("t", "x", QoS::exactly_once, 9));
  auto delivered = h.take(1);
  ASSERT_EQ(delivered.size(), 1u);
  EXPECT_EQ(as<mqtt::Publish>(delivered[0]).qos, QoS::at_most_once);
}

TEST_P(EachVersion, Qos2DuplicateIsDeliveredOnce_MQTT_4_3_3_10) {
  BrokerHarness h;
  h.connect(1, "sub", GetParam());
  h.connect(2, "pub", GetParam());
  h.send(1, subscribe(1, "t", QoS::exactly_once));
  auto rec = h.send(2, publish("t", "once", QoS::exactly_once, 3));
  ASSERT_EQ(rec.size(), 1u);
  EXPECT_EQ(as<mqtt::Ack>(rec[0]).type, PacketType::pubrec);
  auto dup = publish("t", "once", QoS::exactly_once, 3);
  dup.dup = true;
  rec = h.send(2, dup);
  ASSERT_EQ(rec.size(), 1u);
  EXPECT_EQ(as<mqtt::Ack>(rec[0]).type, PacketType::pubrec);
  EXPECT_EQ(h.take(1).size(), 1u);
  auto comp = h.send(2, mqtt::Ack{PacketType::pubrel, 3});
  ASSERT_EQ(comp.size(), 1u);
  EXPECT_EQ(as<mqtt::Ack>(comp[0]).type, PacketType::pubcomp);
}

TEST_P(EachVersion, OutboundQos2FlowCompletes_MQTT_4_3_3_4) {
  BrokerHarness h;
  h.connect(1, "sub", GetParam());
  h.connect(2, "pub", GetParam());
  h.send(1, subscribe(1, "t", QoS::exactly_once));
  h.send(2, publish("t", "x", QoS::exactly_once, 1));
  auto delivered = h.take(1);
  ASSERT_EQ(delivered.size(), 1u);
  const uint16_t id = as<mqtt::Publish>(delivered[0]).packet_id;
  auto rel = h.send(1, mqtt::Ack{PacketType::pubrec, id});
  ASSERT_EQ(rel.size(), 1u);
  EXPECT_EQ(as<mqtt::Ack>(rel[0]).type, PacketType::pubrel);
  EXPECT_TRUE(h.send(1, mqtt::Ack{PacketType::pubcomp, id}).empty());
}

TEST_P(EachVersion, RetainedMessageSentOnSubscribeWithRetainFlag_MQTT_3_3_1_6) {
  BrokerHarness h;
  h.connect(2, "pub", GetParam());
  h.send(2, publish("r/1", "state", QoS::at_most_once, 0, true));
  h.connect(1, "sub", GetParam());
  auto reply = h.send(1, subscribe(1, "r/#"));
  ASSERT_EQ(reply.size(), 2u);
  EXPECT_TRUE(std::holds_alternative<mqtt::Suback>(reply[0]));
  EXPECT_TRUE(as<mqtt::Publish>(reply[1]).retain);
  EXPECT_EQ(as<mqtt::Publish>(reply[1]).payload, "state");
}

TEST_P(EachVersion, EmptyRetainedPayloadClearsTopic_MQTT_3_3_1_10) {
  BrokerHarness h;
  h.connect(2, "pub", GetParam());
  h.send(2, publish("r/1", "state", QoS::at_most_once, 0, true));
  h.send(2, publish("r/1", "", QoS::at_most_once, 0, true));
  EXPECT_EQ(h.broker.retained_count(), 0u);
  h.connect(1, "sub", GetParam());
  EXPECT_EQ(h.send(1, subscribe(1, "r/#")).size(), 1u);
}

TEST_P(EachVersion, NormalForwardHasRetainFlagCleared_MQTT_3_3_1_9) {
  BrokerHarness h;
  h.connect(1, "sub", GetParam());
  h.send(1, subscribe(1, "r"));
  h.connect(2, "pub", GetParam());
  h.send(2, publish("r", "v", QoS::at_most_once, 0, true));
  auto delivered = h.take(1);
  ASSERT_EQ(delivered.size(), 1u);
  EXPECT_FALSE(as<mqtt::Publish>(delivered[0]).retain);
}

TEST_P(EachVersion, DollarTopicsNotMatchedByLeadingWildcard_MQTT_4_7_2_1) {
  BrokerHarness h;
  h.connect(1, "sub", GetParam());
  h.send(1, subscribe(1, "#"));
  h.connect(2, "pub", GetParam());
  h.send(2, publish("$internal/x", "v"));
  EXPECT_TRUE(h.take(1).empty());
}

TEST_P(EachVersion, WillPublishedOnKeepAliveTimeout_MQTT_3_1_2_8) {
  BrokerHarness h;
  h.connect(1, "watcher", GetParam());
  h.send(1, subscribe(1, "will/#"));
  mqtt::Connect c;
  c.version = GetParam();
  c.client_id = "dying";
  c.keep_alive = 2;
  c.will = mqtt::Will{"will/dying", "gone"};
  h.connect(2, std::move(c));
  h.advance(std::chrono::seconds(2));
  EXPECT_FALSE(h.closed(2));
  h.advance(std::chrono::milliseconds(1100));  // past 1.5 x keep alive [MQTT-3.1.2-24]
  EXPECT_TRUE(h.closed(2));
  auto delivered = h.take(1);
  ASSERT_EQ(delivered.size(), 1u);
  EXPECT_EQ(as<mqtt::Publish>(delivered[0]).payload, "gone");
}

TEST_P(EachVersion, KeepAliveMovesWithEveryPacketAndEndsOneAndAHalfAfterTheLast_MQTT_3_1_2_24) {
  // Deadlines are filed lazily (deadline_queue.h): a ping moves the deadline
  // without refiling, and the entry that comes up early is filed again.
  BrokerHarness h;
  mqtt::Connect c;
  c.version = GetParam();
  c.client_id = "pinging";
  c.keep_alive = 4;
  h.connect(1, std::move(c));
  for (int i = 0; i < 20; ++i) {
    h.advance(std::chrono::seconds(3));
    h.send(1, mqtt::Packet(mqtt::Pingreq{}));
  }
  EXPECT_FALSE(h.closed(1));
  h.advance(std::chrono::milliseconds(5900));
  EXPECT_FALSE(h.closed(1));
  h.advance(std::chrono::milliseconds(200));  // 6.1 s after the last ping: past 1.5 x 4 s
  EXPECT_TRUE(h.closed(1));
}

TEST(Broker, ConnectionWithoutConnectClosedAfterTheTimeout) {
  BrokerHarness h;
  h.broker.on_open(1, "test:1", h.clock.now());
  h.advance(std::chrono::seconds(9));
  EXPECT_FALSE(h.closed(1));
  h.advance(std::chrono::seconds(2));
  EXPECT_TRUE(h.closed(1));
}

TEST_P(EachVersion, WillNotPublishedAfterDisconnect_MQTT_3_1_2_10) {
  BrokerHarness h;
  h.connect(1, "watcher", GetParam());
  h.send(1, subscribe(1, "will/#"));
  mqtt::Connect c;
  c.version = GetParam();
  c.client_id = "polite";
  c.will = mqtt::Will{"will/polite", "gone"};
  h.connect(2, std::move(c));
  h.send(2, mqtt::Disconnect{});
  EXPECT_TRUE(h.closed(2));
  EXPECT_TRUE(h.take(1).empty());
}

TEST(Broker, V5DisconnectWithWillSendsWill) {
  BrokerHarness h;
  h.connect(1, "watcher", Version::v5);
  h.send(1, subscribe(1, "will/#"));
  mqtt::Connect c;
  c.version = Version::v5;
  c.client_id = "leaving";
  c.will = mqtt::Will{"will/leaving", "bye"};
  h.connect(2, std::move(c));
  h.send(2, mqtt::Disconnect{ReasonCode::disconnect_with_will});
  EXPECT_EQ(h.take(1).size(), 1u);
}

TEST(Broker, V5WillDelayCancelledByReconnect_MQTT_3_1_3_9) {
  BrokerHarness h;
  h.connect(1, "watcher", Version::v5);
  h.send(1, subscribe(1, "will/#"));
  mqtt::Connect c;
  c.version = Version::v5;
  c.client_id = "flaky";
  c.clean_start = false;
  c.properties.session_expiry_interval = 100;
  c.will = mqtt::Will{"will/flaky", "gone"};
  c.will->properties.will_delay_interval = 5;
  h.connect(2, c);
  h.broker.on_close(2, "reset", h.clock.now());
  h.advance(std::chrono::seconds(3));
  EXPECT_TRUE(h.take(1).empty());
  h.connect(3, c);  // back in time: no will
  h.advance(std::chrono::seconds(5));
  EXPECT_TRUE(h.take(1).empty());
  h.broker.on_close(3, "reset", h.clock.now());
  h.advance(std::chrono::seconds(6));
  EXPECT_EQ(h.take(1).size(), 1u);
}

TEST_P(EachVersion, PersistentSessionQueuesAndResumes_MQTT_3_1_2_4) {
  BrokerHarness h;
  mqtt::Connect c;
  c.version = GetParam();
  c.client_id = "keeper";
  c.clean_start = false;
  if (GetParam() == Version::v5) c.properties.session_expiry_interval = 3600;
  h.connect(1, c);
  h.send(1, subscribe(1, "q", QoS::at_least_once));
  h.broker.on_close(1, "gone", h.clock.now());
  h.connect(2, "pub", GetParam());
  for (int i = 0; i < 3; ++i) h.send(2, publish("q", std::to_string(i), QoS::at_least_once, uint16_t(i + 1)));
  auto reply = h.connect(3, c);
  ASSERT_EQ(reply.size(), 4u);
  EXPECT_TRUE(as<mqtt::Connack>(reply[0]).session_present);  // [MQTT-3.2.2-3]
  for (int i = 0; i < 3; ++i) EXPECT_EQ(as<mqtt::Publish>(reply[size_t(i) + 1]).payload, std::to_string(i));
}

TEST_P(EachVersion, UnacknowledgedResentWithDupOnReconnect_MQTT_4_4_0_1) {
  BrokerHarness h;
  mqtt::Connect c;
  c.version = GetParam();
  c.client_id = "slow";
  c.clean_start = false;
  if (GetParam() == Version::v5) c.properties.session_expiry_interval = 3600;
  h.connect(1, c);
  h.send(1, subscribe(1, "q", QoS::at_least_once));
  h.connect(2, "pub", GetParam());
  h.send(2, publish("q", "m", QoS::at_least_once, 1));
  auto first = h.take(1);
  ASSERT_EQ(first.size(), 1u);
  h.broker.on_close(1, "gone", h.clock.now());
  auto reply = h.connect(3, c);
  ASSERT_EQ(reply.size(), 2u);
  const auto& again = as<mqtt::Publish>(reply[1]);
  EXPECT_TRUE(again.dup);
  EXPECT_EQ(again.packet_id, as<mqtt::Publish>(first[0]).packet_id);
}

TEST_P(EachVersion, TakeoverClosesOldConnection_MQTT_3_1_4_3) {
  BrokerHarness h;
  h.connect(1, "same", GetParam());
  h.connect(2, "same", GetParam());
  EXPECT_TRUE(h.closed(1));
  EXPECT_FALSE(h.closed(2));
  auto old = h.take(1);
  if (GetParam() == Version::v5) {
    ASSERT_EQ(old.size(), 1u);
    EXPECT_EQ(as<mqtt::Disconnect>(old[0]).reason, ReasonCode::session_taken_over);
  }
}

TEST(Broker, NoLocalSuppressesOwnMessages_MQTT_3_8_3_3) {
  BrokerHarness h;
  h.connect(1, "self", Version::v5);
  mqtt::Subscribe s = subscribe(1, "loop");
  s.topics[0].options.no_local = true;
  h.send(1, s);
  EXPECT_TRUE(h.send(1, publish("loop", "x")).empty());
}

TEST(Broker, SharedSubscriptionDeliversToOneMember_MQTT_4_8_2_1) {
  BrokerHarness h;
  h.connect(1, "a", Version::v5);
  h.connect(2, "b", Version::v5);
  h.send(1, subscribe(1, "$share/g/jobs"));
  h.send(2, subscribe(1, "$share/g/jobs"));
  h.connect(3, "pub", Version::v5);
  for (int i = 0; i < 10; ++i) h.send(3, publish("jobs", "j"));
  const size_t to_a = h.take(1).size();
  const size_t to_b = h.take(2).size();
  EXPECT_EQ(to_a + to_b, 10u);
  EXPECT_GT(to_a, 0u);
  EXPECT_GT(to_b, 0u);
}

TEST(Broker, SubscriptionIdentifiersOfOverlappingSubscriptions_MQTT_3_3_4_3) {
  BrokerHarness h;
  h.connect(1, "sub", Version::v5);
  mqtt::Subscribe s1 = subscribe(1, "a/+");
  s1.properties.subscription_identifiers = {11};
  mqtt::Subscribe s2 = subscribe(2, "a/#");
  s2.properties.subscription_identifiers = {22};
  h.send(1, s1);
  h.send(1, s2);
  h.connect(2, "pub", Version::v5);
  h.send(2, publish("a/b", "x"));
  auto delivered = h.take(1);
  ASSERT_EQ(delivered.size(), 1u);  // one copy for overlapping subscriptions
  auto ids = as<mqtt::Publish>(delivered[0]).properties.subscription_identifiers;
  std::sort(ids.begin(), ids.end());
  EXPECT_EQ(ids, (std::vector<uint32_t>{11, 22}));
}

// route() hands one delivery from session to session and a QoS 1
// subscriber keeps it in flight: the next subscribers must still get the
// whole message, each with its own QoS v5[MQTT-3.8.4-8] and only its own
// identifiers v5[MQTT-3.3.4-3].
TEST(Broker, EachSubscriberOfOneMessageGetsItsOwnQosAndIdentifiers_MQTT_3_3_4_3) {
  BrokerHarness h;
  struct Subscriber {
    ConnectionId connection;
    QoS qos;
    uint32_t identifier;  // 0 = none
  };
  // Connected in one order and subscribed in another, as with two workers.
  const std::vector<Subscriber> subscribers{{4, QoS::at_least_once, 7},
                                            {1, QoS::at_most_once, 5},
                                            {3, QoS::at_most_once, 0},
                                            {2, QoS::at_least_once, 6}};
  for (ConnectionId id = 1; id <= 4; ++id) h.connect(id, "sub" + std::to_string(id), Version::v5);
  for (const Subscriber& s : subscribers) {
    mqtt::Subscribe request = subscribe(1, "state/+", s.qos);
    if (s.identifier) request.properties.subscription_identifiers = {s.identifier};
    h.send(s.connection, request);
    h.take(s.connection);  // the SUBACK
  }
  h.connect(5, "pub", Version::v5);
  h.send(5, publish("state/door", "open", QoS::at_least_once, 9));
  for (const Subscriber& s : subscribers) {
    auto delivered = h.take(s.connection);
    ASSERT_EQ(delivered.size(), 1u) << s.connection;
    const auto& received = as<mqtt::Publish>(delivered[0]);
    EXPECT_EQ(received.topic, "state/door") << s.connection;
    EXPECT_EQ(received.payload, "open") << s.connection;
    EXPECT_EQ(received.qos, s.qos) << s.connection;
    const std::vector<uint32_t> expected =
        s.identifier ? std::vector<uint32_t>{s.identifier} : std::vector<uint32_t>{};
    EXPECT_EQ(received.properties.subscription_identifiers, expected) << s.connection;
  }
}

TEST(Broker, V5PropertiesStrippedForV311Subscriber) {
  BrokerHarness h;
  h.connect(1, "old", Version::v311);
  h.send(1, subscribe(1, "x"));
  h.connect(2, "new", Version::v5);
  auto p = publish("x", "payload");
  p.properties.user_properties = {{"k", "v"}};
  p.properties.content_type = "text/plain";
  h.send(2, p);
  auto delivered = h.take(1);
  ASSERT_EQ(delivered.size(), 1u);
  EXPECT_EQ(as<mqtt::Publish>(delivered[0]).payload, "payload");
  EXPECT_TRUE(as<mqtt::Publish>(delivered[0]).properties.user_properties.empty());
}

TEST(Broker, UserPropertiesPassedThroughUnchanged_MQTT_3_3_2_18) {
  BrokerHarness h;
  h.connect(1, "sub", Version::v5);
  h.send(1, subscribe(1, "x"));
  h.connect(2, "pub", Version::v5);
  auto p = publish("x", "payload");
  p.properties.user_properties = {{"k", "v"}, {"k", "w"}};
  p.properties.response_topic = "reply/here";
  p.properties.correlation_data = std::string("\x01\x02", 2);
  h.send(2, p);
  auto delivered = h.take(1);
  ASSERT_EQ(delivered.size(), 1u);
  const auto& props = as<mqtt::Publish>(delivered[0]).properties;
  EXPECT_EQ(props.user_properties, p.properties.user_properties);
  EXPECT_EQ(props.response_topic, p.properties.response_topic);
  EXPECT_EQ(props.correlation_data, p.properties.correlation_data);
}

// A v5 client with a lasting session subscribes to `filter` at QoS 1 on
// connection 1 and goes away; returns its CONNECT, to resume it.
mqtt::Connect subscribe_and_go_offline(BrokerHarness& h, const std::string& filter) {
  mqtt::Connect c;
  c.version = Version::v5;
  c.client_id = "later";
  c.clean_start = false;
  c.properties.session_expiry_interval = 3600;
  h.connect(1, c);
  h.send(1, subscribe(1, filter, QoS::at_least_once));
  h.broker.on_close(1, "away", h.clock.now());
  return c;
}

TEST(Broker, MessageExpiryCountedDown_MQTT_3_3_2_6) {
  BrokerHarness h;
  const mqtt::Connect c = subscribe_and_go_offline(h, "e");
  h.connect(2, "pub", Version::v5);
  auto p = publish("e", "soon", QoS::at_least_once, 1);
  p.properties.message_expiry_interval = 10;
  h.send(2, p);
  auto q = publish("e", "gone", QoS::at_least_once, 2);
  q.properties.message_expiry_interval = 2;
  h.send(2, q);
  h.advance(std::chrono::seconds(4));
  auto reply = h.connect(3, c);
  ASSERT_EQ(reply.size(), 2u);  // the 2 s message expired [MQTT-3.3.2-5]
  EXPECT_EQ(as<mqtt::Publish>(reply[1]).payload, "soon");
  EXPECT_EQ(as<mqtt::Publish>(reply[1]).properties.message_expiry_interval, 6u);
}

TEST(Broker, AnExpiredMessageAtTheFrontOfTheQueueIsDropped_MQTT_3_3_2_5) {
  BrokerHarness h;
  const mqtt::Connect c = subscribe_and_go_offline(h, "e");
  h.connect(2, "pub", Version::v5);
  auto gone = publish("e", "gone", QoS::at_least_once, 1);
  gone.properties.message_expiry_interval = 1;
  h.send(2, gone);
  auto kept = publish("e", "kept", QoS::at_least_once, 2);
  kept.properties.message_expiry_interval = 100;
  h.send(2, kept);
  h.advance(std::chrono::seconds(2));
  auto reply = h.connect(3, c);
  ASSERT_EQ(reply.size(), 2u);
  EXPECT_EQ(as<mqtt::Publish>(reply[1]).payload, "kept");
}

TEST(Broker, ReceiveMaximumLimitsInflight_MQTT_3_3_4_9) {
  BrokerHarness h;
  mqtt::Connect c;
  c.version = Version::v5;
  c.client_id = "narrow";
  c.properties.receive_maximum = 2;
  h.connect(1, c);
  h.send(1, subscribe(1, "w", QoS::at_least_once));
  h.connect(2, "pub", Version::v5);
  for (uint16_t i = 1; i <= 5; ++i) h.send(2, publish("w", "m", QoS::at_least_once, i));
  auto first = h.take(1);
  ASSERT_EQ(first.size(), 2u);
  // One acknowledgement frees one slot: exactly one more message follows.
  auto next = h.send(1, mqtt::Ack{PacketType::puback, as<mqtt::Publish>(first[0]).packet_id});
  EXPECT_EQ(next.size(), 1u);
}

TEST(Broker, InboundTopicAliasResolved_MQTT_3_3_2_12) {
  BrokerHarness h;
  h.connect(1, "sub", Version::v5);
  h.send(1, subscribe(1, "long/topic/name"));
  h.connect(2, "pub", Version::v5);
  auto first = publish("long/topic/name", "1");
  first.properties.topic_alias = 3;
  h.send(2, first);
  auto second = publish("", "2");
  second.properties.topic_alias = 3;
  h.send(2, second);
  auto delivered = h.take(1);
  ASSERT_EQ(delivered.size(), 2u);
  EXPECT_EQ(as<mqtt::Publish>(delivered[1]).topic, "long/topic/name");
}

TEST(Broker, TopicAliasAboveMaximumIsRejected_MQTT_3_3_2_9) {
  BrokerHarness h;
  h.connect(1, "pub", Version::v5);
  auto p = publish("t", "x");
  p.properties.topic_alias = 1000;
  auto reply = h.send(1, p);
  ASSERT_EQ(reply.size(), 1u);
  EXPECT_EQ(as<mqtt::Disconnect>(reply[0]).reason, ReasonCode::topic_alias_invalid);
  EXPECT_TRUE(h.closed(1));
}

TEST(Broker, PacketLargerThanClientMaximumNotSent_MQTT_3_1_2_25) {
  BrokerHarness h;
  mqtt::Connect c;
  c.version = Version::v5;
  c.client_id = "tiny";
  c.properties.maximum_packet_size = 64;
  h.connect(1, c);
  h.send(1, subscribe(1, "big"));
  h.connect(2, "pub", Version::v5);
  h.send(2, publish("big", std::string(200, 'x')));
  h.send(2, publish("big", "small"));
  auto delivered = h.take(1);
  ASSERT_EQ(delivered.size(), 1u);
  EXPECT_EQ(as<mqtt::Publish>(delivered[0]).payload, "small");
}

TEST(Broker, OversizedInboundPacketDisconnects_MQTT_3_2_2_15) {
  BrokerConfig config;
  config.limits.max_packet_size = 100;
  BrokerHarness h(config);
  h.connect(1, "pub", Version::v5);
  auto reply = h.send(1, publish("t", std::string(200, 'x')));
  ASSERT_EQ(reply.size(), 1u);
  EXPECT_EQ(as<mqtt::Disconnect>(reply[0]).reason, ReasonCode::packet_too_large);
  EXPECT_TRUE(h.closed(1));
}

TEST(Broker, QueueLimitDropsAndCounts) {
  BrokerConfig config;
  config.queue.max_messages = 2;
  BrokerHarness h(config);
  mqtt::Connect c;
  c.version = Version::v311;
  c.client_id = "away";
  c.clean_start = false;
  h.connect(1, c);
  h.send(1, subscribe(1, "q", QoS::at_least_once));
  h.broker.on_close(1, "gone", h.clock.now());
  h.connect(2, "pub", Version::v311);
  for (uint16_t i = 1; i <= 5; ++i) h.send(2, publish("q", "m", QoS::at_least_once, i));
  EXPECT_EQ(h.broker.stats().publish_dropped, 3u);
  EXPECT_EQ(h.connect(3, c).size(), 3u);
}

TEST(Broker, UnsubscribeStopsDelivery_MQTT_3_10_4_1) {
  BrokerHarness h;
  h.connect(1, "sub", Version::v5);
  h.send(1, subscribe(1, "u"));
  mqtt::Unsubscribe u;
  u.packet_id = 2;
  u.filters = {"u", "never"};
  auto reply = h.send(1, u);
  ASSERT_EQ(reply.size(), 1u);
  EXPECT_EQ(as<mqtt::Unsuback>(reply[0]).reasons,
            (std::vector<ReasonCode>{ReasonCode::success, ReasonCode::no_subscription_existed}));
  h.connect(2, "pub", Version::v5);
  h.send(2, publish("u", "x"));
  EXPECT_TRUE(h.take(1).empty());
}

TEST(Broker, ShutdownSendsServerShuttingDown) {
  BrokerHarness h;
  h.connect(1, "v5", Version::v5);
  h.broker.shutdown(h.clock.now());
  auto reply = h.take(1);
  ASSERT_EQ(reply.size(), 1u);
  EXPECT_EQ(as<mqtt::Disconnect>(reply[0]).reason, ReasonCode::server_shutting_down);
  EXPECT_TRUE(h.closed(1));
}

TEST(Broker, SysTopicsPublished) {
  BrokerConfig config;
  config.sys_interval = 1;
  BrokerHarness h(config);
  h.connect(1, "monitor", Version::v311);
  h.send(1, subscribe(1, "$SYS/broker/clients/connected"));
  h.advance(std::chrono::seconds(2));
  auto delivered = h.take(1);
  ASSERT_EQ(delivered.size(), 1u);
  EXPECT_EQ(as<mqtt::Publish>(delivered[0]).payload, "1");
}

// Which connection a session is attached to is kept on the session
// (Session::connection), not in a table: it must follow a takeover, so
// that deliveries go to the new connection [MQTT-3.1.4-3], and the count of
// connected clients must follow closes.
TEST(Broker, DeliveriesFollowTheSessionToTheConnectionThatTookItOver_MQTT_3_1_4_3) {
  BrokerHarness h;
  h.connect(2, "same", Version::v311, /*clean=*/false);
  h.send(2, subscribe(1, "t"));
  h.connect(3, "same", Version::v311, /*clean=*/false);
  ASSERT_TRUE(h.closed(2));
  h.take(3);
  h.connect(4, "publisher", Version::v311);
  h.send(4, publish("t", "after takeover"));
  auto delivered = h.take(3);
  ASSERT_EQ(delivered.size(), 1u);
  EXPECT_EQ(as<mqtt::Publish>(delivered[0]).payload, "after takeover");
  EXPECT_TRUE(h.take(2).empty());
}

TEST(Broker, ConnectedCountFollowsTakeoversAndCloses) {
  BrokerConfig config;
  config.sys_interval = 1;
  BrokerHarness h(config);
  h.connect(1, "monitor", Version::v311);
  h.send(1, subscribe(1, "$SYS/broker/clients/connected"));
  h.connect(2, "same", Version::v311);
  h.connect(3, "same", Version::v311);  // takes over from 2
  h.advance(std::chrono::seconds(2));
  auto first = h.take(1);
  ASSERT_EQ(first.size(), 1u);
  EXPECT_EQ(as<mqtt::Publish>(first[0]).payload, "2");
  h.broker.on_close(3, "peer closed", h.clock.now());
  h.advance(std::chrono::seconds(2));
  auto second = h.take(1);
  ASSERT_EQ(second.size(), 1u);
  EXPECT_EQ(as<mqtt::Publish>(second[0]).payload, "1");
  EXPECT_EQ(h.broker.connection_count(), 1u);
  EXPECT_EQ(h.broker.session_count(), 1u);
}

}  // namespace
}  // namespace stellwerk::broker::testing

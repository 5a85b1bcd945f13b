// One test per rule decode_packet enforces, named after the normative
// statement it checks (or the spec section where the statement has no id).
// Each builds the smallest frame that breaks exactly that rule.
#include <gtest/gtest.h>

#include "test_util.h"

namespace stellwerk::mqtt {
namespace {

using testing::Bytes;
using testing::cat;
using testing::expect_malformed;
using testing::expect_protocol_error;
using testing::frame;
using testing::str;

constexpr Version v31 = Version::v31;
constexpr Version v311 = Version::v311;
constexpr Version v5 = Version::v5;

void expect_decodes(const Bytes& bytes, Version version) {
  auto result = testing::decode(bytes, version);
  EXPECT_TRUE(result.ok()) << result.error().why;
}

// --- fixed header ------------------------------------------------------------

TEST(Decode, PubrelReservedFlagsMustBe0010_MQTT_3_6_1_1) {
  expect_malformed({0x60, 0x02, 0x00, 0x01}, v311);
  expect_malformed({0x60, 0x02, 0x00, 0x01}, v5);
  expect_decodes({0x62, 0x02, 0x00, 0x01}, v5);
}

TEST(Decode, SubscribeReservedFlagsMustBe0010_MQTT_3_8_1_1) {
  expect_malformed(frame(0x80, cat({{0x00, 0x01}, str("a"), {0x00}})), v311);
  expect_malformed(frame(0x83, cat({{0x00, 0x01, 0x00}, str("a"), {0x00}})), v5);
}

TEST(Decode, UnsubscribeReservedFlagsMustBe0010_MQTT_3_10_1_1) {
  expect_malformed(frame(0xA0, cat({{0x00, 0x01}, str("a")})), v311);
  expect_malformed(frame(0xA0, cat({{0x00, 0x01, 0x00}, str("a")})), v5);
}

TEST(Decode, ReservedFlagsOfOtherPacketsAreZero_MQTT_2_2_2_1_MQTT_2_1_3_1) {
  expect_malformed({0xC1, 0x00}, v311);  // PINGREQ
  expect_malformed({0xD8, 0x00}, v5);    // PINGRESP
  expect_malformed({0x42, 0x02, 0x00, 0x01}, v5);  // PUBACK
  expect_malformed({0x21, 0x02, 0x00, 0x00}, v311);  // CONNACK
}

TEST(Decode, DisconnectReservedFlags_MQTT_3_14_1_1) {
  expect_malformed({0xE1, 0x00}, v311);
  expect_malformed({0xE2, 0x00}, v5);
}

TEST(Decode, AuthReservedFlags_MQTT_3_15_1_1) { expect_malformed({0xF1, 0x00}, v5); }

// 3.1 clients set DUP and QoS 1 on SUBSCRIBE / PUBREL retries.
TEST(Decode, V31AcceptsDupAndQosBitsOnSubscribe) {
  expect_decodes(frame(0x8A, cat({{0x00, 0x01}, str("a"), {0x01}})), v31);
  expect_decodes({0x6A, 0x02, 0x00, 0x01}, v31);
}

// [MQTT-1.5.5-1]: the Remaining Length 0 written in two bytes.
TEST(Decode, NonMinimalRemainingLengthInV5_MQTT_1_5_5_1) {
  expect_malformed({0xC0, 0x80, 0x00}, v5);
  expect_decodes({0xC0, 0x80, 0x00}, v311);
}

TEST(Decode, RemainingLengthOfFiveBytesIsMalformed) {
  expect_malformed({0xC0, 0x80, 0x80, 0x80, 0x80, 0x00}, v311);
}

TEST(Decode, FrameShorterOrLongerThanItsHeaderIsMalformed) {
  expect_malformed({0x40, 0x02, 0x00}, v311);
  expect_malformed({0x40, 0x02, 0x00, 0x01, 0x00}, v311);
}

TEST(Decode, TrailingBytesAreMalformed) {
  expect_malformed({0xC0, 0x01, 0x00}, v311);                // PINGREQ with a body
  expect_malformed({0x40, 0x03, 0x00, 0x01, 0x00}, v311);    // 3.1.1 PUBACK is 2 bytes
  expect_malformed({0xE0, 0x01, 0x00}, v311);                // 3.1.1 DISCONNECT has no body
  expect_malformed({0xB0, 0x03, 0x00, 0x01, 0x00}, v311);    // 3.1.1 UNSUBACK has no payload
  expect_malformed({0x20, 0x03, 0x00, 0x00, 0x00}, v311);    // CONNACK
}

TEST(Decode, FieldLongerThanThePacketIsMalformed) {
  expect_malformed({0x30, 0x03, 0x00, 0x05, 'a'}, v311);
}

// --- PUBLISH -------------------------------------------------------------------

TEST(Decode, PublishQos3IsMalformed_MQTT_3_3_1_4) {
  expect_malformed(frame(0x36, cat({str("t"), {0x00, 0x01}})), v311);
  expect_malformed(frame(0x36, cat({str("t"), {0x00, 0x01, 0x00}})), v5);
}

TEST(Decode, PublishQos0WithDupIsMalformed_MQTT_3_3_1_2) {
  expect_malformed(frame(0x38, str("t")), v311);
  expect_malformed(frame(0x38, cat({str("t"), {0x00}})), v5);
}

TEST(Decode, PublishPacketIdZeroIsProtocolError_MQTT_2_2_1_3_MQTT_2_3_1_1) {
  expect_protocol_error(frame(0x32, cat({str("t"), {0x00, 0x00}})), v311);
  expect_protocol_error(frame(0x34, cat({str("t"), {0x00, 0x00, 0x00}})), v5);
}

TEST(Decode, PublishTopicWithWildcardIsMalformed_MQTT_3_3_2_2_MQTT_4_7_0_1) {
  expect_malformed(frame(0x30, str("a/+")), v311);
  expect_malformed(frame(0x30, cat({str("a/#"), {0x00}})), v5);
  expect_malformed(frame(0x30, str("+")), v31);
}

TEST(Decode, PublishTopicInvalidUtf8IsMalformed_MQTT_3_3_2_1_MQTT_1_5_4_1) {
  expect_malformed(frame(0x30, cat({{0x00, 0x02, 0xC0, 0xAF}})), v311);
  expect_malformed(frame(0x30, cat({{0x00, 0x03, 0xED, 0xA0, 0x80, 0x00}})), v5);
}

TEST(Decode, PublishTopicWithNullCharacterIsMalformed_MQTT_1_5_4_2_MQTT_4_7_3_2) {
  expect_malformed(frame(0x30, cat({{0x00, 0x03, 'a', 0x00, 'b'}})), v311);
}

TEST(Decode, V311PublishEmptyTopicIsMalformed_MQTT_4_7_3_1) {
  expect_malformed(frame(0x30, str("")), v311);
}

// v5 3.3.2.1: "It is a Protocol Error if the Topic Name is zero length and
// there is no Topic Alias."
TEST(Decode, V5PublishEmptyTopicNeedsTopicAlias) {
  expect_protocol_error(frame(0x30, cat({str(""), {0x00}})), v5);
  expect_decodes(frame(0x30, cat({str(""), {0x03, 0x23, 0x00, 0x01}})), v5);
}

// v5 3.3.2.3.4 [MQTT-3.3.2-8]: Topic Alias 0 is a Protocol Error.
TEST(Decode, TopicAliasZeroIsProtocolError_MQTT_3_3_2_8) {
  expect_protocol_error(frame(0x30, cat({str("t"), {0x03, 0x23, 0x00, 0x00}})), v5);
}

TEST(Decode, ResponseTopicWithWildcardIsMalformed_MQTT_3_3_2_14) {
  expect_malformed(frame(0x30, cat({str("t"), {0x06, 0x08}, str("r/#")})), v5);
}

TEST(Decode, PublishMayCarrySeveralSubscriptionIdentifiers) {
  expect_decodes(frame(0x30, cat({str("t"), {0x04, 0x0B, 0x01, 0x0B, 0x02}})), v5);
}

// v5 3.3.2.3.8: "It is a Protocol Error if the Subscription Identifier has a value of 0".
TEST(Decode, SubscriptionIdentifierZeroIsProtocolError) {
  expect_protocol_error(frame(0x30, cat({str("t"), {0x02, 0x0B, 0x00}})), v5);
}

// --- properties (v5 2.2.2) ------------------------------------------------------

TEST(Decode, PropertyNotAllowedInPacketIsMalformed_v5_2_2_2_2) {
  // Topic Alias in PUBACK.
  expect_malformed({0x40, 0x07, 0x00, 0x01, 0x00, 0x03, 0x23, 0x00, 0x01}, v5);
  // Will Delay Interval belongs to Will Properties, not to PUBLISH.
  expect_malformed(frame(0x30, cat({str("t"), {0x05, 0x18, 0x00, 0x00, 0x00, 0x01}})), v5);
}

TEST(Decode, UnknownPropertyIdentifierIsMalformed) {
  expect_malformed(frame(0x30, cat({str("t"), {0x02, 0x04, 0x00}})), v5);
  expect_malformed(frame(0x30, cat({str("t"), {0x02, 0x7F, 0x00}})), v5);
}

TEST(Decode, DuplicatePropertyIsProtocolError) {
  // Two Reason Strings in PUBACK (v5 3.4.2.2.2).
  expect_protocol_error({0x40, 0x0C, 0x00, 0x01, 0x00, 0x08, 0x1F, 0x00, 0x01, 'a', 0x1F,
                         0x00, 0x01, 'b'},
                        v5);
  // Two Message Expiry Intervals in PUBLISH (v5 3.3.2.3.3).
  expect_protocol_error(frame(0x30, cat({str("t"), {0x0A, 0x02, 0, 0, 0, 1, 0x02, 0, 0, 0, 2}})),
                        v5);
}

TEST(Decode, UserPropertyMayRepeat_MQTT_3_3_2_18) {
  expect_decodes(frame(0x30, cat({str("t"), {0x0E, 0x26}, str("k"), str("v"), {0x26}, str("k"),
                                  str("v")})),
                 v5);
}

// v5 3.8.2.1.2: "It is a Protocol Error to include the Subscription Identifier more than once."
TEST(Decode, SubscribeWithTwoSubscriptionIdentifiersIsProtocolError) {
  expect_protocol_error(frame(0x82, cat({{0x00, 0x01, 0x04, 0x0B, 0x01, 0x0B, 0x02}, str("a"),
                                         {0x00}})),
                        v5);
}

TEST(Decode, PropertyLengthOverrunningThePacketIsMalformed) {
  expect_malformed({0x40, 0x05, 0x00, 0x01, 0x00, 0x09, 0x00}, v5);
}

TEST(Decode, PropertyOverrunningThePropertyLengthIsMalformed) {
  // Property Length 2, but the Reason String inside needs 4 bytes; a payload follows.
  expect_malformed(frame(0x30, cat({str("t"), {0x02, 0x03, 0x00, 0x01, 'x', 'p', 'p'}})), v5);
}

TEST(Decode, NonMinimalPropertyLengthIsMalformed_MQTT_1_5_5_1) {
  expect_malformed({0x40, 0x05, 0x00, 0x01, 0x00, 0x80, 0x00}, v5);
}

TEST(Decode, FiveByteVarintInPropertiesIsMalformed) {
  expect_malformed(frame(0x30, cat({str("t"), {0x06, 0x0B, 0x80, 0x80, 0x80, 0x80, 0x01}})), v5);
}

TEST(Decode, PropertyValueRulesAreProtocolErrors) {
  auto connect_with = [](Bytes properties) {
    Bytes size{static_cast<uint8_t>(properties.size())};
    return frame(0x10, cat({str("MQTT"), {0x05, 0x02, 0x00, 0x3C}, size, properties, str("c")}));
  };
  expect_decodes(connect_with({0x21, 0x00, 0x01}), v5);
  // v5 3.1.2.11.3: Receive Maximum 0.
  expect_protocol_error(connect_with({0x21, 0x00, 0x00}), v5);
  // v5 3.1.2.11.4: Maximum Packet Size 0.
  expect_protocol_error(connect_with({0x27, 0x00, 0x00, 0x00, 0x00}), v5);
  // v5 3.1.2.11.6 / 3.1.2.11.7: Request Response / Problem Information other than 0 or 1.
  expect_protocol_error(connect_with({0x19, 0x02}), v5);
  expect_protocol_error(connect_with({0x17, 0x05}), v5);
  // v5 3.1.2.11.9: Authentication Data without Authentication Method.
  expect_protocol_error(connect_with({0x16, 0x00, 0x01, 'x'}), v5);
  // v5 3.2.2.3.4: Maximum QoS other than 0 or 1.
  expect_protocol_error({0x20, 0x05, 0x00, 0x00, 0x02, 0x24, 0x02}, v5);
}

TEST(Decode, InvalidUtf8InPropertyIsMalformed_MQTT_1_5_4_1) {
  expect_malformed({0x40, 0x09, 0x00, 0x01, 0x00, 0x05, 0x1F, 0x00, 0x02, 0xC3, 0x28}, v5);
}

// --- SUBSCRIBE / UNSUBSCRIBE -----------------------------------------------------

TEST(Decode, SubscribePacketIdZeroIsProtocolError_MQTT_2_2_1_3_MQTT_2_3_1_1) {
  expect_protocol_error(frame(0x82, cat({{0x00, 0x00}, str("a"), {0x00}})), v311);
  expect_protocol_error(frame(0x82, cat({{0x00, 0x00, 0x00}, str("a"), {0x00}})), v5);
}

TEST(Decode, UnsubscribePacketIdZeroIsProtocolError_MQTT_2_2_1_3_MQTT_2_3_1_1) {
  expect_protocol_error(frame(0xA2, cat({{0x00, 0x00}, str("a")})), v311);
  expect_protocol_error(frame(0xA2, cat({{0x00, 0x00, 0x00}, str("a")})), v5);
}

TEST(Decode, SubscribeWithoutFiltersIsProtocolError_MQTT_3_8_3_2_MQTT_3_8_3_3) {
  expect_protocol_error({0x82, 0x02, 0x00, 0x01}, v311);
  expect_protocol_error({0x82, 0x03, 0x00, 0x01, 0x00}, v5);
}

TEST(Decode, UnsubscribeWithoutFiltersIsProtocolError_MQTT_3_10_3_2) {
  expect_protocol_error({0xA2, 0x02, 0x00, 0x01}, v311);
  expect_protocol_error({0xA2, 0x03, 0x00, 0x01, 0x00}, v5);
}

TEST(Decode, SubscribeFilterInvalidUtf8IsMalformed_MQTT_3_8_3_1) {
  expect_malformed(frame(0x82, cat({{0x00, 0x01, 0x00, 0x01, 0xFF, 0x00}})), v311);
}

TEST(Decode, UnsubscribeFilterInvalidUtf8IsMalformed_MQTT_3_10_3_1) {
  expect_malformed(frame(0xA2, cat({{0x00, 0x01, 0x00, 0x00, 0x01, 0x00}})), v5);
}

TEST(Decode, V311SubscribeReservedOptionBitsAreMalformed_MQTT_3_8_3_4) {
  expect_malformed(frame(0x82, cat({{0x00, 0x01}, str("a"), {0x04}})), v311);
  expect_malformed(frame(0x82, cat({{0x00, 0x01}, str("a"), {0x03}})), v311);
}

TEST(Decode, V5SubscribeReservedOptionBitsAreMalformed_MQTT_3_8_3_5) {
  expect_malformed(frame(0x82, cat({{0x00, 0x01, 0x00}, str("a"), {0x40}})), v5);
  expect_malformed(frame(0x82, cat({{0x00, 0x01, 0x00}, str("a"), {0x80}})), v5);
}

// v5 3.8.3.1: "It is a Protocol Error if the Maximum QoS field has the value 3."
TEST(Decode, V5SubscribeQos3IsProtocolError) {
  expect_protocol_error(frame(0x82, cat({{0x00, 0x01, 0x00}, str("a"), {0x03}})), v5);
}

// v5 3.8.3.1: "It is a Protocol Error to send a Retain Handling value of 3."
TEST(Decode, V5SubscribeRetainHandling3IsProtocolError) {
  expect_protocol_error(frame(0x82, cat({{0x00, 0x01, 0x00}, str("a"), {0x30}})), v5);
}

TEST(Decode, NoLocalOnSharedSubscriptionIsProtocolError_MQTT_3_8_3_4) {
  expect_protocol_error(frame(0x82, cat({{0x00, 0x01, 0x00}, str("$share/g/a"), {0x04}})), v5);
  expect_decodes(frame(0x82, cat({{0x00, 0x01, 0x00}, str("a"), {0x04}})), v5);
}

// --- CONNECT -------------------------------------------------------------------------

Bytes connect_frame(const std::string& name, uint8_t level, uint8_t flags, Bytes rest) {
  return frame(0x10, cat({str(name), {level, flags, 0x00, 0x3C}, rest}));
}

TEST(Decode, ConnectReservedFlagIsMalformed_MQTT_3_1_2_3) {
  expect_malformed(connect_frame("MQTT", 4, 0x03, str("c")), v311);
  auto result = testing::decode(connect_frame("MQTT", 5, 0x01, cat({{0x00}, str("c")})), v5);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().reason, ReasonCode::malformed_packet);
  EXPECT_EQ(result.error().connect_protocol_level, 5);
}

TEST(Decode, ConnectFixedHeaderFlagsAreZero_MQTT_2_2_2_1) {
  expect_malformed(frame(0x11, cat({str("MQTT"), {0x04, 0x02, 0x00, 0x3C}, str("c")})), v311);
}

// v5 3.1.2.6: "A value of 3 (0x03) is a Malformed Packet."; 3.1.1 [MQTT-3.1.2-14].
TEST(Decode, WillQos3IsMalformed_MQTT_3_1_2_14) {
  Bytes will = cat({str("w"), str("m")});
  expect_malformed(connect_frame("MQTT", 4, 0x1C, cat({str("c"), will})), v311);
  expect_malformed(connect_frame("MQTT", 5, 0x1C, cat({{0x00}, str("c"), {0x00}, will})), v5);
}

TEST(Decode, WillQosWithoutWillFlagIsMalformed_MQTT_3_1_2_11_MQTT_3_1_2_13) {
  expect_malformed(connect_frame("MQTT", 4, 0x08, str("c")), v311);
  expect_malformed(connect_frame("MQTT", 5, 0x10, cat({{0x00}, str("c")})), v5);
}

TEST(Decode, WillRetainWithoutWillFlagIsMalformed_MQTT_3_1_2_13_MQTT_3_1_2_15) {
  expect_malformed(connect_frame("MQTT", 4, 0x20, str("c")), v311);
  expect_malformed(connect_frame("MQTT", 5, 0x20, cat({{0x00}, str("c")})), v5);
}

TEST(Decode, V311PasswordWithoutUserNameIsMalformed_MQTT_3_1_2_22) {
  expect_malformed(connect_frame("MQTT", 4, 0x42, cat({str("c"), str("pw")})), v311);
  // v5 3.1.2.9 allows a password without a user name.
  expect_decodes(connect_frame("MQTT", 5, 0x42, cat({{0x00}, str("c"), str("pw")})), v5);
}

TEST(Decode, WillTopicWithWildcardIsMalformed_MQTT_3_1_3_11) {
  expect_malformed(connect_frame("MQTT", 4, 0x06, cat({str("c"), str("w/#"), str("m")})), v311);
}

TEST(Decode, ClientIdInvalidUtf8IsMalformed_MQTT_3_1_3_4) {
  expect_malformed(connect_frame("MQTT", 4, 0x02, {0x00, 0x01, 0x80}), v311);
}

TEST(Decode, UserNameInvalidUtf8IsMalformed_MQTT_3_1_3_12) {
  expect_malformed(connect_frame("MQTT", 5, 0x82, cat({{0x00}, str("c"), {0x00, 0x01, 0x00}})), v5);
}

TEST(Decode, ConnectMissingPayloadFieldsIsMalformed_MQTT_3_1_2_19) {
  expect_malformed(connect_frame("MQTT", 4, 0x82, str("c")), v311);  // user name flag, no name
}

void expect_unsupported(const Bytes& bytes, uint8_t level) {
  auto result = testing::decode(bytes, v311);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().reason, ReasonCode::unsupported_protocol_version);
  EXPECT_EQ(result.error().connect_protocol_level, level);
}

TEST(Decode, UnknownProtocolLevelIsUnsupportedVersion_MQTT_3_1_2_2) {
  expect_unsupported(connect_frame("MQTT", 6, 0x02, str("c")), 6);
  expect_unsupported(connect_frame("MQTT", 0, 0x02, str("c")), 0);
}

TEST(Decode, ProtocolNameMustFitLevel_MQTT_3_1_2_1) {
  expect_unsupported(connect_frame("MQTT", 3, 0x02, str("c")), 3);
  expect_unsupported(connect_frame("MQIsdp", 4, 0x02, str("c")), 4);
  expect_unsupported(connect_frame("MQIsdp", 5, 0x02, str("c")), 5);
  expect_unsupported(connect_frame("mqtt", 4, 0x02, str("c")), 4);
}

TEST(Decode, ConnectIsDecodedForTheVersionItCarries) {
  Bytes v5_connect = connect_frame("MQTT", 5, 0x02, cat({{0x03, 0x21, 0x00, 0x05}, str("c")}));
  auto result = testing::decode(v5_connect, v311);
  ASSERT_TRUE(result.ok()) << result.error().why;
  const auto& connect = std::get<Connect>(*result);
  EXPECT_EQ(connect.version, Version::v5);
  EXPECT_EQ(connect.properties.receive_maximum, 5);
  auto v31_connect = testing::decode(connect_frame("MQIsdp", 3, 0x02, str("c")), v5);
  ASSERT_TRUE(v31_connect.ok());
  EXPECT_EQ(std::get<Connect>(*v31_connect).protocol_name, "MQIsdp");
}

// --- CONNACK and acknowledgements -------------------------------------------------------

TEST(Decode, ConnackReservedFlagsAreMalformed_MQTT_3_2_2_1) {
  expect_malformed({0x20, 0x03, 0x02, 0x00, 0x00}, v5);
  expect_malformed({0x20, 0x02, 0x80, 0x00}, v311);
  expect_decodes({0x20, 0x02, 0x80, 0x00}, v31);  // the whole byte was unused in 3.1
}

TEST(Decode, SessionPresentOnRefusalIsProtocolError_MQTT_3_2_2_6_MQTT_3_2_2_4) {
  expect_protocol_error({0x20, 0x03, 0x01, 0x87, 0x00}, v5);
  expect_protocol_error({0x20, 0x02, 0x01, 0x05}, v311);
}

TEST(Decode, ConnackReasonMustBeAConnectReasonCode_MQTT_3_2_2_8) {
  expect_protocol_error({0x20, 0x03, 0x00, 0x04, 0x00}, v5);
  expect_malformed({0x20, 0x02, 0x00, 0x06}, v311);  // return codes 6-255 are reserved
}

TEST(Decode, V3ConnackCodesMapToReasonCodes) {
  auto result = testing::decode({0x20, 0x02, 0x00, 0x02}, v311);
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(std::get<Connack>(*result).reason, ReasonCode::client_identifier_not_valid);
}

TEST(Decode, AckPacketIdZeroIsProtocolError_MQTT_2_2_1_5) {
  expect_protocol_error({0x40, 0x02, 0x00, 0x00}, v311);
  expect_protocol_error({0x70, 0x02, 0x00, 0x00}, v5);
}

TEST(Decode, SubackPacketIdZeroIsProtocolError_MQTT_2_2_1_6) {
  expect_protocol_error({0x90, 0x03, 0x00, 0x00, 0x00}, v311);
}

TEST(Decode, PubackReasonMustBeAPubackCode_MQTT_3_4_2_1) {
  expect_protocol_error({0x40, 0x03, 0x00, 0x01, 0x92}, v5);
}

TEST(Decode, PubrelReasonMustBeAPubrelCode_MQTT_3_6_2_1) {
  expect_protocol_error({0x62, 0x03, 0x00, 0x01, 0x10}, v5);
}

TEST(Decode, V311SubackReturnCodesAreReserved_MQTT_3_9_3_2) {
  expect_malformed({0x90, 0x03, 0x00, 0x01, 0x03}, v311);
  expect_malformed({0x90, 0x03, 0x00, 0x01, 0x81}, v311);
}

TEST(Decode, V5SubackReasonMustBeASubscribeCode_MQTT_3_9_3_2) {
  expect_protocol_error({0x90, 0x04, 0x00, 0x01, 0x00, 0x10}, v5);
}

TEST(Decode, V5UnsubackReasonMustBeAnUnsubscribeCode_MQTT_3_11_3_2) {
  expect_protocol_error({0xB0, 0x04, 0x00, 0x01, 0x00, 0x01}, v5);
}

TEST(Decode, SubackWithoutReasonCodesIsProtocolError_MQTT_3_8_4_6) {
  expect_protocol_error({0x90, 0x02, 0x00, 0x01}, v311);
  expect_protocol_error({0x90, 0x03, 0x00, 0x01, 0x00}, v5);
  expect_protocol_error({0xB0, 0x03, 0x00, 0x01, 0x00}, v5);
}

// --- DISCONNECT and AUTH ------------------------------------------------------------------

TEST(Decode, DisconnectReasonMustBeADisconnectCode_MQTT_3_14_2_1) {
  expect_protocol_error({0xE0, 0x01, 0x10}, v5);
}

TEST(Decode, AuthReasonMustBeAnAuthCode_MQTT_3_15_2_1) {
  expect_protocol_error(frame(0xF0, cat({{0x80, 0x04, 0x15}, str("m")})), v5);
}

// v5 3.15.2.2.2: "It is a Protocol Error to omit the Authentication Method".
TEST(Decode, AuthWithoutAuthenticationMethodIsProtocolError) {
  expect_protocol_error({0xF0, 0x02, 0x18, 0x00}, v5);
}

TEST(Decode, AuthWithReasonButNoPropertyLengthIsMalformed) {
  expect_malformed({0xF0, 0x01, 0x18}, v5);
}

TEST(Decode, AuthDoesNotExistBeforeV5) {
  expect_malformed({0xF0, 0x00}, v311);
  expect_malformed({0xF0, 0x00}, v31);
}

}  // namespace
}  // namespace stellwerk::mqtt

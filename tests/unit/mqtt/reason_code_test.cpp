// Reason code names, per-packet code lists, packet names and the 3.1.1
// CONNACK mapping.
#include "mqtt/reason_code.h"

#include <gtest/gtest.h>

#include <cstring>

#include "mqtt/packet.h"

namespace stellwerk::mqtt {
namespace {

TEST(ReasonCode, TextComesFromTheTable) {
  EXPECT_STREQ(reason_code_text(ReasonCode::malformed_packet), "Malformed Packet");
  EXPECT_STREQ(reason_code_text(ReasonCode::success), "Success");
  EXPECT_STREQ(reason_code_text(static_cast<ReasonCode>(0x05)), "Unknown reason code");
}

TEST(ReasonCode, KnownCodes) {
  int known = 0;
  for (int value = 0; value < 256; ++value) known += is_known_reason_code(uint8_t(value));
  EXPECT_EQ(known, 43);
  EXPECT_TRUE(is_known_reason_code(0xA2));
  EXPECT_FALSE(is_known_reason_code(0x03));
  EXPECT_FALSE(is_known_reason_code(0xA3));
}

TEST(ReasonCode, AllowedPerPacketType) {
  EXPECT_TRUE(
      is_allowed_reason_code(PacketType::connack, ReasonCode::unsupported_protocol_version));
  EXPECT_FALSE(is_allowed_reason_code(PacketType::connack, ReasonCode::granted_qos_1));
  EXPECT_TRUE(is_allowed_reason_code(PacketType::puback, ReasonCode::no_matching_subscribers));
  EXPECT_FALSE(is_allowed_reason_code(PacketType::pubrel, ReasonCode::no_matching_subscribers));
  EXPECT_TRUE(is_allowed_reason_code(PacketType::pubcomp, ReasonCode::packet_identifier_not_found));
  EXPECT_TRUE(is_allowed_reason_code(PacketType::suback, ReasonCode::granted_qos_2));
  EXPECT_TRUE(is_allowed_reason_code(PacketType::unsuback, ReasonCode::no_subscription_existed));
  EXPECT_TRUE(is_allowed_reason_code(PacketType::disconnect, ReasonCode::disconnect_with_will));
  EXPECT_FALSE(is_allowed_reason_code(PacketType::disconnect, ReasonCode::granted_qos_1));
  EXPECT_TRUE(is_allowed_reason_code(PacketType::auth, ReasonCode::re_authenticate));
  EXPECT_FALSE(is_allowed_reason_code(PacketType::publish, ReasonCode::success));
}

TEST(ReasonCode, ToV3ConnackCode) {
  EXPECT_EQ(to_v3_connack_code(ReasonCode::success), V3ConnackCode::accepted);
  EXPECT_EQ(to_v3_connack_code(ReasonCode::unsupported_protocol_version),
            V3ConnackCode::unacceptable_protocol_version);
  EXPECT_EQ(to_v3_connack_code(ReasonCode::client_identifier_not_valid),
            V3ConnackCode::identifier_rejected);
  EXPECT_EQ(to_v3_connack_code(ReasonCode::server_unavailable), V3ConnackCode::server_unavailable);
  EXPECT_EQ(to_v3_connack_code(ReasonCode::server_busy), V3ConnackCode::server_unavailable);
  EXPECT_EQ(to_v3_connack_code(ReasonCode::bad_user_name_or_password),
            V3ConnackCode::bad_username_or_password);
  EXPECT_EQ(to_v3_connack_code(ReasonCode::not_authorized), V3ConnackCode::not_authorized);
  EXPECT_EQ(to_v3_connack_code(ReasonCode::banned), V3ConnackCode::not_authorized);
  EXPECT_EQ(to_v3_connack_code(ReasonCode::unspecified_error), V3ConnackCode::not_authorized);
}

TEST(ReasonCode, FromV3ConnackCodeRoundTrips) {
  for (int code = 0; code <= 5; ++code) {
    auto v3 = static_cast<V3ConnackCode>(code);
    EXPECT_EQ(to_v3_connack_code(from_v3_connack_code(v3)), v3) << code;
  }
}

TEST(PacketNames, EveryTypeHasItsSpecName) {
  EXPECT_STREQ(packet_type_name(PacketType::connect), "CONNECT");
  EXPECT_STREQ(packet_type_name(PacketType::unsuback), "UNSUBACK");
  EXPECT_STREQ(packet_type_name(PacketType::auth), "AUTH");
  EXPECT_EQ(packet_type(Packet{Ack{PacketType::pubrec}}), PacketType::pubrec);
  EXPECT_EQ(packet_type(Packet{Pingresp{}}), PacketType::pingresp);
  EXPECT_EQ(packet_type(Packet{Connect{}}), PacketType::connect);
}

}  // namespace
}  // namespace stellwerk::mqtt

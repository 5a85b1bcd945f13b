// The answer to a connection beyond max_connections (issue 5, point 7).
#include "server/over_limit.h"

#include <gtest/gtest.h>

#include "mqtt/codec.h"

namespace stellwerk::server {
namespace {

std::vector<uint8_t> connect_bytes(mqtt::Version version) {
  mqtt::Connect connect;
  connect.version = version;
  connect.client_id = "over-limit";
  std::string out;
  mqtt::encode(connect, version, out);
  return {out.begin(), out.end()};
}

mqtt::Connack decode_connack(const std::string& bytes, mqtt::Version version) {
  const std::span<const uint8_t> view(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
  auto packet = mqtt::decode_packet(view, version);
  EXPECT_TRUE(packet);
  return std::get<mqtt::Connack>(packet.value());
}

TEST(OverLimit, V5ClientGetsQuotaExceeded) {
  const OverLimitAnswer answer = answer_over_limit(connect_bytes(mqtt::Version::v5));
  ASSERT_EQ(answer.kind, OverLimitAnswer::Kind::connack);
  EXPECT_EQ(decode_connack(answer.bytes, mqtt::Version::v5).reason, mqtt::ReasonCode::quota_exceeded);
}

TEST(OverLimit, V311AndV31ClientsGetServerUnavailable) {
  for (mqtt::Version version : {mqtt::Version::v311, mqtt::Version::v31}) {
    const OverLimitAnswer answer = answer_over_limit(connect_bytes(version));
    ASSERT_EQ(answer.kind, OverLimitAnswer::Kind::connack);
    // Return code 3 on the wire; decoded as the v5 name of that code.
    EXPECT_EQ(static_cast<uint8_t>(answer.bytes[3]), 3);
    EXPECT_EQ(decode_connack(answer.bytes, version).reason, mqtt::ReasonCode::server_unavailable);
  }
}

TEST(OverLimit, WaitsForTheWholeConnect) {
  const std::vector<uint8_t> whole = connect_bytes(mqtt::Version::v5);
  for (size_t cut = 0; cut < whole.size(); ++cut) {
    EXPECT_EQ(answer_over_limit(std::span(whole).first(cut)).kind, OverLimitAnswer::Kind::need_more) << cut;
  }
}

TEST(OverLimit, AnUnknownProtocolLevelIsAnsweredIn311Form) {
  std::vector<uint8_t> bytes = connect_bytes(mqtt::Version::v311);
  bytes[8] = 9;  // protocol level
  const OverLimitAnswer answer = answer_over_limit(bytes);
  ASSERT_EQ(answer.kind, OverLimitAnswer::Kind::connack);
  EXPECT_EQ(answer.bytes.size(), 4u);
}

TEST(OverLimit, GivesUpOnOtherPacketsAndHugeConnects) {
  const std::vector<uint8_t> pingreq = {0xC0, 0x00};
  EXPECT_EQ(answer_over_limit(pingreq).kind, OverLimitAnswer::Kind::give_up);
  const std::vector<uint8_t> huge_claim = {0x10, 0xFF, 0xFF, 0x03};
  EXPECT_EQ(answer_over_limit(huge_claim).kind, OverLimitAnswer::Kind::give_up);
  const std::vector<uint8_t> bad_varint = {0x10, 0xFF, 0xFF, 0xFF, 0xFF, 0x01};
  EXPECT_EQ(answer_over_limit(bad_varint).kind, OverLimitAnswer::Kind::give_up);
  const std::vector<uint8_t> garbage(kLargestRefusedConnect, 0x10);
  EXPECT_EQ(answer_over_limit(garbage).kind, OverLimitAnswer::Kind::give_up);
}

}  // namespace
}  // namespace stellwerk::server

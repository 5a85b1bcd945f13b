// Byte-exact encodings checked against hand-written arrays, most taken from
// the non-normative examples in the 3.1.1 and v5 specs, and the v5 short
// forms of acks, DISCONNECT and AUTH.
#include <gtest/gtest.h>

#include "test_util.h"

namespace stellwerk::mqtt {
namespace {

using testing::Bytes;
using testing::bytes_of;
using testing::encoded;

Bytes encode_bytes(const Packet& packet, Version version) {
  return bytes_of(encoded(packet, version));
}

// v5 2.1.4 / 3.1.1 2.2.3: the Remaining Length table.
TEST(Varint, SpecTableOfBoundaries) {
  struct Case {
    uint32_t value;
    std::string bytes;
  };
  const Case cases[] = {{0, std::string("\x00", 1)}, {127, "\x7F"}, {128, "\x80\x01"},
                        {16'383, "\xFF\x7F"},        {16'384, "\x80\x80\x01"},
                        {2'097'151, "\xFF\xFF\x7F"}, {2'097'152, "\x80\x80\x80\x01"},
                        {268'435'455, "\xFF\xFF\xFF\x7F"}};
  for (const Case& c : cases) {
    std::string out;
    encode_varint(c.value, out);
    EXPECT_EQ(out, c.bytes) << c.value;
    EXPECT_EQ(varint_size(c.value), c.bytes.size());
  }
}

// 3.1.1 Figure 3.6 (variable header: "MQTT", level 4, flags 0xCE, keep alive 10).
TEST(Bytes, V311ConnectVariableHeaderFromSpec) {
  Connect connect;
  connect.version = Version::v311;
  connect.keep_alive = 10;
  connect.client_id = "c";
  connect.will = Will{"w", "m", QoS::at_least_once, false, {}};
  connect.username = "u";
  connect.password = "p";
  Bytes expected = testing::frame(
      0x10, testing::cat({{0x00, 0x04, 'M', 'Q', 'T', 'T', 0x04, 0xCE, 0x00, 0x0A},
                          testing::str("c"), testing::str("w"), testing::str("m"),
                          testing::str("u"), testing::str("p")}));
  EXPECT_EQ(encode_bytes(connect, Version::v311), expected);
}

// v5 Figure 3-6: the same flags plus Session Expiry Interval 10.
TEST(Bytes, V5ConnectVariableHeaderFromSpec) {
  Connect connect;
  connect.version = Version::v5;
  connect.keep_alive = 10;
  connect.properties.session_expiry_interval = 10;
  connect.client_id = "c";
  connect.will = Will{"w", "m", QoS::at_least_once, false, {}};
  connect.username = "u";
  connect.password = "p";
  Bytes expected = testing::frame(
      0x10, testing::cat({{0x00, 0x04, 'M', 'Q', 'T', 'T', 0x05, 0xCE, 0x00, 0x0A},
                          {0x05, 0x11, 0x00, 0x00, 0x00, 0x0A},  // properties
                          testing::str("c"), {0x00},             // no will properties
                          testing::str("w"), testing::str("m"), testing::str("u"),
                          testing::str("p")}));
  EXPECT_EQ(encode_bytes(connect, Version::v5), expected);
}

TEST(Bytes, V31ConnectUsesMQIsdpLevel3) {
  Connect connect;
  connect.version = Version::v31;
  connect.keep_alive = 60;
  connect.client_id = "id";
  Bytes expected = testing::frame(
      0x10, testing::cat({{0x00, 0x06, 'M', 'Q', 'I', 's', 'd', 'p', 0x03, 0x02, 0x00, 0x3C},
                          testing::str("id")}));
  EXPECT_EQ(encode_bytes(connect, Version::v31), expected);
}

// 3.1.1 Table 3.3 / Figure 3.11: topic "a/b", packet identifier 10.
TEST(Bytes, PublishVariableHeaderFromSpec) {
  Publish publish{false, QoS::at_least_once, false, "a/b", 10, {}, "hi"};
  Bytes expected{0x32, 0x09, 0x00, 0x03, 'a', '/', 'b', 0x00, 0x0A, 'h', 'i'};
  EXPECT_EQ(encode_bytes(publish, Version::v311), expected);
  Bytes v5_expected{0x32, 0x0A, 0x00, 0x03, 'a', '/', 'b', 0x00, 0x0A, 0x00, 'h', 'i'};
  EXPECT_EQ(encode_bytes(publish, Version::v5), v5_expected);
}

// 3.1.1 Figure 3.21 + Figure 3.23; v5 Figure 3-19 (Property Length 0).
TEST(Bytes, SubscribeFromSpec) {
  Subscribe subscribe{10, {}, {{"a/b", {QoS::at_least_once}}, {"c/d", {QoS::exactly_once}}}};
  Bytes payload{0x00, 0x03, 'a', '/', 'b', 0x01, 0x00, 0x03, 'c', '/', 'd', 0x02};
  EXPECT_EQ(encode_bytes(subscribe, Version::v311),
            testing::frame(0x82, testing::cat({{0x00, 0x0A}, payload})));
  EXPECT_EQ(encode_bytes(subscribe, Version::v5),
            testing::frame(0x82, testing::cat({{0x00, 0x0A, 0x00}, payload})));
}

TEST(Bytes, V5SubscriptionOptionsByte) {
  Subscribe subscribe{1, {}, {{"x", {QoS::exactly_once, true, true, RetainHandling::do_not_send}}}};
  Bytes expected{0x82, 0x07, 0x00, 0x01, 0x00, 0x00, 0x01, 'x', 0x2E};
  EXPECT_EQ(encode_bytes(subscribe, Version::v5), expected);
}

// 3.1.1 Figure 3.27: 0, 2, 128; any v5 failure becomes 0x80 in 3.1.1.
TEST(Bytes, V311SubackFromSpec) {
  Suback suback{10, {}, {ReasonCode::success, ReasonCode::granted_qos_2,
                         ReasonCode::not_authorized}};
  Bytes expected{0x90, 0x05, 0x00, 0x0A, 0x00, 0x02, 0x80};
  EXPECT_EQ(encode_bytes(suback, Version::v311), expected);
  Bytes v5_expected{0x90, 0x06, 0x00, 0x0A, 0x00, 0x00, 0x02, 0x87};
  EXPECT_EQ(encode_bytes(suback, Version::v5), v5_expected);
}

// 3.1.1 Figure 3.30: "a/b", "c/d".
TEST(Bytes, UnsubscribeFromSpec) {
  Unsubscribe unsubscribe{10, {}, {"a/b", "c/d"}};
  Bytes expected{0xA2, 0x0C, 0x00, 0x0A, 0x00, 0x03, 'a', '/', 'b', 0x00, 0x03, 'c', '/', 'd'};
  EXPECT_EQ(encode_bytes(unsubscribe, Version::v311), expected);
}

TEST(Bytes, V3UnsubackHasNoPayload) {
  Unsuback unsuback{5, {}, {ReasonCode::success}};
  EXPECT_EQ(encode_bytes(unsuback, Version::v311), (Bytes{0xB0, 0x02, 0x00, 0x05}));
  EXPECT_EQ(encode_bytes(unsuback, Version::v5), (Bytes{0xB0, 0x04, 0x00, 0x05, 0x00, 0x00}));
}

TEST(Bytes, ConnackPerVersion) {
  Connack accepted{true, ReasonCode::success, {}};
  EXPECT_EQ(encode_bytes(accepted, Version::v311), (Bytes{0x20, 0x02, 0x01, 0x00}));
  EXPECT_EQ(encode_bytes(accepted, Version::v31), (Bytes{0x20, 0x02, 0x00, 0x00}));
  EXPECT_EQ(encode_bytes(accepted, Version::v5), (Bytes{0x20, 0x03, 0x01, 0x00, 0x00}));
  Connack refused{false, ReasonCode::bad_user_name_or_password, {}};
  EXPECT_EQ(encode_bytes(refused, Version::v311), (Bytes{0x20, 0x02, 0x00, 0x04}));
  EXPECT_EQ(encode_bytes(refused, Version::v5), (Bytes{0x20, 0x03, 0x00, 0x86, 0x00}));
}

TEST(Bytes, V5AckShortForms) {
  Ack success{PacketType::puback, 1, ReasonCode::success, {}};
  EXPECT_EQ(encode_bytes(success, Version::v5), (Bytes{0x40, 0x02, 0x00, 0x01}));
  Ack failure{PacketType::pubrec, 1, ReasonCode::quota_exceeded, {}};
  EXPECT_EQ(encode_bytes(failure, Version::v5), (Bytes{0x50, 0x03, 0x00, 0x01, 0x97}));
  Ack with_reason_string{PacketType::pubrel, 1, ReasonCode::success, {}};
  with_reason_string.properties.reason_string = "r";
  EXPECT_EQ(encode_bytes(with_reason_string, Version::v5),
            (Bytes{0x62, 0x08, 0x00, 0x01, 0x00, 0x04, 0x1F, 0x00, 0x01, 'r'}));
  EXPECT_EQ(encode_bytes(failure, Version::v311), (Bytes{0x50, 0x02, 0x00, 0x01}));
}

TEST(Bytes, V5AckLongFormsDecode) {
  // Remaining Length 3 (reason, no Property Length) and 4 (Property Length 0).
  auto three = testing::decode({0x40, 0x03, 0x00, 0x01, 0x10}, Version::v5);
  ASSERT_TRUE(three.ok()) << three.error().why;
  EXPECT_EQ(std::get<Ack>(*three).reason, ReasonCode::no_matching_subscribers);
  auto four = testing::decode({0x70, 0x04, 0x00, 0x01, 0x00, 0x00}, Version::v5);
  ASSERT_TRUE(four.ok()) << four.error().why;
  EXPECT_EQ(std::get<Ack>(*four), (Ack{PacketType::pubcomp, 1, ReasonCode::success, {}}));
}

TEST(Bytes, V5DisconnectShortForms) {
  EXPECT_EQ(encode_bytes(Disconnect{}, Version::v5), (Bytes{0xE0, 0x00}));
  EXPECT_EQ(encode_bytes(Disconnect{ReasonCode::server_shutting_down, {}}, Version::v5),
            (Bytes{0xE0, 0x01, 0x8B}));
  EXPECT_EQ(encode_bytes(Disconnect{ReasonCode::server_shutting_down, {}}, Version::v311),
            (Bytes{0xE0, 0x00}));
  auto with_empty_properties = testing::decode({0xE0, 0x02, 0x00, 0x00}, Version::v5);
  ASSERT_TRUE(with_empty_properties.ok());
  EXPECT_EQ(std::get<Disconnect>(*with_empty_properties), Disconnect{});
}

TEST(Bytes, V5AuthForms) {
  EXPECT_EQ(encode_bytes(Auth{}, Version::v5), (Bytes{0xF0, 0x00}));
  Auth next{ReasonCode::continue_authentication, {}};
  next.properties.authentication_method = "m";
  EXPECT_EQ(encode_bytes(next, Version::v5),
            (Bytes{0xF0, 0x06, 0x18, 0x04, 0x15, 0x00, 0x01, 'm'}));
}

TEST(Bytes, PingAndV3Disconnect) {
  EXPECT_EQ(encode_bytes(Pingreq{}, Version::v311), (Bytes{0xC0, 0x00}));
  EXPECT_EQ(encode_bytes(Pingresp{}, Version::v5), (Bytes{0xD0, 0x00}));
  EXPECT_EQ(encode_bytes(Disconnect{}, Version::v311), (Bytes{0xE0, 0x00}));
}

// 3.1.1 Figure 1.2 / v5 Figure 1-1: "A𪛔" is 00 05 41 F0 AA 9B 94.
TEST(Bytes, Utf8StringFromSpec) {
  Publish publish{false, QoS::at_most_once, false, "A\xF0\xAA\x9B\x94", 0, {}, ""};
  EXPECT_EQ(encode_bytes(publish, Version::v311),
            (Bytes{0x30, 0x07, 0x00, 0x05, 0x41, 0xF0, 0xAA, 0x9B, 0x94}));
}

TEST(ScanFrame, NeedsMoreUntilTheWholeFrameIsThere) {
  Bytes frame{0x30, 0x05, 0x00, 0x01, 't', 'x', 'y'};
  for (size_t n = 0; n < frame.size(); ++n) {
    EXPECT_EQ(scan_frame(std::span(frame).first(n)).status, FrameStatus::need_more) << n;
  }
  FrameScan scan = scan_frame(frame);
  ASSERT_EQ(scan.status, FrameStatus::complete);
  EXPECT_EQ(scan.header.type, PacketType::publish);
  EXPECT_EQ(scan.header.remaining_length, 5u);
  EXPECT_EQ(scan.header.header_size, 2);
  EXPECT_EQ(scan.header.total_size(), 7u);
}

TEST(ScanFrame, FifthLengthByteIsMalformed) {
  EXPECT_EQ(scan_frame(Bytes{0x30, 0x80, 0x80, 0x80, 0x80, 0x01}).status, FrameStatus::malformed);
  EXPECT_EQ(scan_frame(Bytes{0x30, 0xFF, 0xFF, 0xFF, 0x7F}).status, FrameStatus::need_more);
}

TEST(ScanFrame, PacketTypeZeroIsMalformed) {
  EXPECT_EQ(scan_frame(Bytes{0x00}).status, FrameStatus::malformed);
}

}  // namespace
}  // namespace stellwerk::mqtt

// decode_publish_frame, the broker's fast path for PUBLISH, against
// decode_packet: the same fields for every well-formed PUBLISH and the same
// error (reason and text) for every broken one, in 3.1, 3.1.1 and 5.
#include <random>

#include "test_util.h"

namespace stellwerk::mqtt {
namespace {

using namespace testing;

constexpr Version v31 = Version::v31;
constexpr Version v311 = Version::v311;
constexpr Version v5 = Version::v5;

// Both decoders on one frame: equal outcomes, or a test failure.
void expect_same_outcome(const Bytes& bytes, Version version) {
  PublishFrame view;
  const auto fast = decode_publish_frame(bytes, version, view);
  if (bytes.empty() || bytes[0] >> 4 != static_cast<uint8_t>(PacketType::publish)) {
    EXPECT_FALSE(fast.ok()) << "another packet type passed as PUBLISH";
    return;
  }
  const auto slow = decode_packet(bytes, version);
  ASSERT_EQ(fast.ok(), slow.ok()) << (slow.ok() ? fast.error().why : slow.error().why);
  if (!slow.ok()) {
    EXPECT_EQ(fast.error().reason, slow.error().reason);
    EXPECT_EQ(fast.error().why, slow.error().why);
    return;
  }
  Publish from_view;
  assign_publish(std::move(view), from_view);
  EXPECT_EQ(from_view, std::get<Publish>(*slow));
}

std::vector<Publish> sample_publishes() {
  std::vector<Publish> out;
  for (QoS qos : {QoS::at_most_once, QoS::at_least_once, QoS::exactly_once}) {
    Publish p;
    p.topic = "sensors/1/temp";
    p.payload = std::string("\0\x01\xff", 3);
    p.qos = qos;
    p.packet_id = qos == QoS::at_most_once ? 0 : 77;
    p.retain = qos == QoS::at_least_once;
    p.dup = qos == QoS::exactly_once;
    out.push_back(p);
    p.payload.clear();
    out.push_back(p);
    p.payload = std::string(300, 'x');  // a two-byte Remaining Length
    p.properties.content_type = "text/plain";
    p.properties.user_properties = {{"k", "v"}};
    p.properties.message_expiry_interval = 30;
    out.push_back(p);
  }
  return out;
}

TEST(PublishFrame, SameFieldsAsDecodePacket) {
  for (Version version : {v31, v311, v5}) {
    for (const Publish& publish : sample_publishes()) {
      SCOPED_TRACE(static_cast<int>(version));
      expect_same_outcome(bytes_of(encoded(publish, version)), version);
    }
  }
}

TEST(PublishFrame, PropertiesOnlyWhenTheyArePresent) {
  Publish publish;
  publish.topic = "t";
  PublishFrame view;
  ASSERT_TRUE(decode_publish_frame(bytes_of(encoded(publish, v5)), v5, view).ok());
  EXPECT_FALSE(view.properties);
  publish.properties.correlation_data = "c";
  ASSERT_TRUE(decode_publish_frame(bytes_of(encoded(publish, v5)), v5, view).ok());
  ASSERT_TRUE(view.properties);
  EXPECT_EQ(view.properties->correlation_data, "c");
  // A reused frame forgets the previous packet's properties.
  publish.properties = {};
  ASSERT_TRUE(decode_publish_frame(bytes_of(encoded(publish, v5)), v5, view).ok());
  EXPECT_FALSE(view.properties);
}

// Each broken PUBLISH that decode_errors_test judges, judged the same way.
TEST(PublishFrame, SameErrorsAsDecodePacket) {
  const std::vector<std::pair<Bytes, Version>> broken = {
      {frame(0x36, cat({str("t"), {0x00, 0x01}})), v311},  // QoS 3 [MQTT-3.3.1-4]
      {frame(0x36, cat({str("t"), {0x00, 0x01, 0x00}})), v5},
      {frame(0x38, str("t")), v311},  // DUP on QoS 0 [MQTT-3.3.1-2]
      {frame(0x38, cat({str("t"), {0x00}})), v5},
      {frame(0x32, cat({str("t"), {0x00, 0x00}})), v311},  // packet id 0 [MQTT-2.2.1-3]
      {frame(0x34, cat({str("t"), {0x00, 0x00, 0x00}})), v5},
      {frame(0x30, str("a/+")), v311},  // wildcard [MQTT-3.3.2-2]
      {frame(0x30, cat({str("a/#"), {0x00}})), v5},
      {frame(0x30, cat({{0x00, 0x02, 0xC0, 0xAF}})), v311},  // ill-formed UTF-8 [MQTT-1.5.4-1]
      {frame(0x30, cat({{0x00, 0x03, 'a', 0x00, 'b'}})), v311},  // U+0000 [MQTT-1.5.4-2]
      {frame(0x30, str("")), v311},  // empty topic [MQTT-4.7.3-1]
      {frame(0x30, cat({str(""), {0x00}})), v5},  // empty topic without alias
      {frame(0x30, cat({str("t"), {0x03, 0x23, 0x00, 0x00}})), v5},  // alias 0 [MQTT-3.3.2-8]
      {frame(0x30, cat({str("t"), {0x06, 0x08}, str("r/#")})), v5},  // wildcard response topic [MQTT-3.3.2-14]
      {frame(0x30, cat({str("t"), {0x02, 0x0B, 0x00}})), v5},  // subscription identifier 0
      {frame(0x30, cat({str("t"), {0x05, 0x18, 0x00, 0x00, 0x00, 0x01}})), v5},  // Will Delay in PUBLISH
      {frame(0x30, cat({str("t"), {0x09, 0x01, 0x01}})), v5},  // property length overruns the packet
      {frame(0x30, cat({str("t"), {0x01, 0x01}})), v5},  // property overruns the property length
      {frame(0x30, cat({str("t"), {0x80, 0x00}})), v5},  // non-minimal property length [MQTT-1.5.5-1]
      {frame(0x30, cat({str("t"), {0x04, 0x01, 0x01, 0x01, 0x01}})), v5},  // duplicate property
      {frame(0x30, {0x00, 0x05, 't'}), v311},  // a topic longer than the packet
      {{0x30, 0x83, 0x00, 0x00, 0x01, 't'}, v5},  // non-minimal Remaining Length [MQTT-1.5.5-1]
      {{0x30, 0x05, 0x00, 0x01, 't'}, v311},  // frame shorter than its header says
  };
  for (const auto& [bytes, version] : broken) {
    SCOPED_TRACE(::testing::PrintToString(bytes));
    PublishFrame view;
    EXPECT_FALSE(decode_publish_frame(bytes, version, view).ok());
    expect_same_outcome(bytes, version);
  }
}

TEST(PublishFrame, OtherPacketTypesAreRefused) {
  PublishFrame view;
  EXPECT_FALSE(decode_publish_frame(Bytes{0xC0, 0x00}, v311, view).ok());        // PINGREQ
  EXPECT_FALSE(decode_publish_frame(Bytes{0x40, 0x02, 0x00, 0x01}, v5, view).ok());  // PUBACK
}

// Random damage to well-formed PUBLISH packets: whatever the bytes, both
// decoders agree. Deterministic (fixed seed), a few thousand cases.
TEST(PublishFrame, AgreesWithDecodePacketOnDamagedPackets) {
  std::mt19937 random(20261202);
  const std::vector<Publish> samples = sample_publishes();
  for (int round = 0; round < 3000; ++round) {
    const Version version = std::array{v31, v311, v5}[random() % 3];
    Bytes bytes = bytes_of(encoded(samples[random() % samples.size()], version));
    const int flips = 1 + static_cast<int>(random() % 3);
    for (int i = 0; i < flips; ++i) bytes[random() % bytes.size()] = static_cast<uint8_t>(random());
    if (random() % 4 == 0) bytes.resize(random() % bytes.size());
    SCOPED_TRACE(::testing::PrintToString(bytes));
    ASSERT_NO_FATAL_FAILURE(expect_same_outcome(bytes, version));
  }
}

}  // namespace
}  // namespace stellwerk::mqtt

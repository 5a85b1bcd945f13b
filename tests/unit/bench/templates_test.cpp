// Pre-encoded packets: a patched template must decode, with the codec, to
// exactly the packet it stands for, in both versions and at every QoS.
#include "bench/templates.h"

#include <gtest/gtest.h>

#include <span>

#include "mqtt/codec.h"

namespace stellwerk::bench {
namespace {

mqtt::Packet decode_one(const std::string& bytes, mqtt::Version version) {
  std::span<const uint8_t> frame(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
  const mqtt::FrameScan scan = mqtt::scan_frame(frame);
  EXPECT_EQ(scan.status, mqtt::FrameStatus::complete);
  EXPECT_EQ(scan.header.total_size(), bytes.size()) << "one frame, nothing after it";
  auto decoded = mqtt::decode_packet(frame, version);
  EXPECT_TRUE(decoded.ok()) << (decoded.ok() ? "" : decoded.error().why);
  return decoded.ok() ? decoded.value() : mqtt::Packet(mqtt::Pingreq{});
}

class PublishTemplateTest : public ::testing::TestWithParam<std::tuple<mqtt::Version, mqtt::QoS>> {};

TEST_P(PublishTemplateTest, PatchedFrameDecodesWithStampAndPacketId) {
  const auto [version, qos] = GetParam();
  const PublishTemplate message("bench/pair/17", qos, 100, version);
  std::string out = "prefix";  // appends after what is already there
  const Stamp stamp{17, 123456789, 555};
  message.append_to(out, stamp, 4242);
  ASSERT_EQ(out.substr(0, 6), "prefix");
  const mqtt::Packet packet = decode_one(out.substr(6), version);
  ASSERT_TRUE(std::holds_alternative<mqtt::Publish>(packet));
  const auto& publish = std::get<mqtt::Publish>(packet);
  EXPECT_EQ(publish.topic, "bench/pair/17");
  EXPECT_EQ(publish.qos, qos);
  EXPECT_EQ(publish.packet_id, qos == mqtt::QoS::at_most_once ? 0 : 4242);
  ASSERT_EQ(publish.payload.size(), 100u);
  const auto read = read_stamp(std::span(reinterpret_cast<const uint8_t*>(publish.payload.data()), 100));
  ASSERT_TRUE(read.has_value());
  EXPECT_EQ(*read, stamp);
  EXPECT_EQ(out.size() - 6, message.size());
}

INSTANTIATE_TEST_SUITE_P(VersionsAndQos, PublishTemplateTest,
                         ::testing::Combine(::testing::Values(mqtt::Version::v311, mqtt::Version::v5),
                                            ::testing::Values(mqtt::QoS::at_most_once,
                                                              mqtt::QoS::at_least_once,
                                                              mqtt::QoS::exactly_once)));

TEST(PublishTemplate, LongTopicNeedsATwoByteRemainingLength) {
  const std::string topic(300, 't');
  const PublishTemplate message(topic, mqtt::QoS::at_least_once, 24, mqtt::Version::v311);
  std::string out;
  message.append_to(out, Stamp{1, 2, 3}, 65535);
  const mqtt::Packet packet = decode_one(out, mqtt::Version::v311);
  ASSERT_TRUE(std::holds_alternative<mqtt::Publish>(packet));
  const auto& publish = std::get<mqtt::Publish>(packet);
  EXPECT_EQ(publish.packet_id, 65535);
  EXPECT_EQ(publish.topic, topic);
}

TEST(AckTemplate, EveryAckTypeDecodesWithItsPacketId) {
  for (const mqtt::Version version : {mqtt::Version::v311, mqtt::Version::v5}) {
    for (const mqtt::PacketType type : {mqtt::PacketType::puback, mqtt::PacketType::pubrec,
                                        mqtt::PacketType::pubrel, mqtt::PacketType::pubcomp}) {
      std::string out;
      AckTemplate(type, version).append_to(out, 0xBEEF);
      const mqtt::Packet packet = decode_one(out, version);
      ASSERT_TRUE(std::holds_alternative<mqtt::Ack>(packet));
      EXPECT_EQ(std::get<mqtt::Ack>(packet).type, type);
      EXPECT_EQ(std::get<mqtt::Ack>(packet).packet_id, 0xBEEF);
    }
  }
}

}  // namespace
}  // namespace stellwerk::bench

// Round trips: every packet type, in every version it exists in, with every
// property a v5 packet may carry, encodes to bytes that decode back to the
// same value, in exactly encoded_size() bytes, and re-encodes identically.
#include <gtest/gtest.h>

#include "sample_packets.h"
#include "test_util.h"

namespace stellwerk::mqtt {
namespace {

using testing::bytes_of;
using testing::encoded;

class RoundTrip : public ::testing::TestWithParam<Version> {};

TEST_P(RoundTrip, EveryPacketTypeDecodesToItself) {
  Version version = GetParam();
  for (const Packet& packet : samples::sample_packets(version)) {
    SCOPED_TRACE(packet_type_name(packet_type(packet)));
    std::string bytes = encoded(packet, version);
    EXPECT_EQ(bytes.size(), encoded_size(packet, version));
    auto decoded = decode_packet(bytes_of(bytes), version);
    ASSERT_TRUE(decoded.ok()) << decoded.error().why;
    EXPECT_EQ(*decoded, packet);
    EXPECT_EQ(encoded(*decoded, version), bytes);
  }
}

TEST_P(RoundTrip, EncodeAppendsToExistingBytes) {
  Version version = GetParam();
  std::string out = "prefix";
  Packet packet = samples::publish(version, QoS::at_least_once);
  encode(packet, version, out);
  EXPECT_EQ(out.substr(0, 6), "prefix");
  EXPECT_EQ(out.substr(6), encoded(packet, version));
}

TEST_P(RoundTrip, EncodePublishOfAViewMatchesEncodeOfThePacket) {
  Version version = GetParam();
  for (QoS qos : {QoS::at_most_once, QoS::at_least_once, QoS::exactly_once}) {
    Publish publish = samples::publish(version, qos);
    publish.dup = qos != QoS::at_most_once;
    publish.retain = true;
    PublishView view{publish.topic, publish.payload, &publish.properties, publish.qos,
                     publish.dup,   publish.retain,  publish.packet_id};
    std::string out = "prefix";
    encode_publish(view, version, out);
    EXPECT_EQ(out, "prefix" + encoded(publish, version));
    // No properties at all encodes like an empty property set.
    Publish bare = publish;
    bare.properties = {};
    view.properties = nullptr;
    std::string bare_bytes;
    encode_publish(view, version, bare_bytes);
    EXPECT_EQ(bare_bytes, encoded(bare, version));
  }
}

TEST_P(RoundTrip, ScanFrameFindsEachPacketInAStream) {
  Version version = GetParam();
  std::string stream;
  std::vector<Packet> packets = samples::sample_packets(version);
  for (const Packet& packet : packets) encode(packet, version, stream);
  std::span<const uint8_t> rest(reinterpret_cast<const uint8_t*>(stream.data()), stream.size());
  for (const Packet& packet : packets) {
    FrameScan scan = scan_frame(rest);
    ASSERT_EQ(scan.status, FrameStatus::complete);
    auto decoded = decode_packet(rest.first(scan.header.total_size()), version);
    ASSERT_TRUE(decoded.ok()) << decoded.error().why;
    EXPECT_EQ(*decoded, packet);
    rest = rest.subspan(scan.header.total_size());
  }
  EXPECT_TRUE(rest.empty());
}

INSTANTIATE_TEST_SUITE_P(AllVersions, RoundTrip,
                         ::testing::Values(Version::v31, Version::v311, Version::v5),
                         [](const auto& info) {
                           switch (info.param) {
                             case Version::v31: return std::string("v31");
                             case Version::v311: return std::string("v311");
                             case Version::v5: return std::string("v5");
                           }
                           return std::string("unknown");
                         });

TEST(RoundTrip, LargePayloadUsesFourByteRemainingLength) {
  Publish publish{false, QoS::at_most_once, false, "big", 0, {}, std::string(2'097'152, 'x')};
  std::string bytes = encoded(publish, Version::v311);
  EXPECT_EQ(scan_frame(bytes_of(bytes)).header.header_size, 5);
  auto decoded = decode_packet(bytes_of(bytes), Version::v311);
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(std::get<Publish>(*decoded), publish);
}

TEST(RoundTrip, PropertiesThePacketCannotCarryAreLeftOut) {
  Ack ack{PacketType::puback, 1, ReasonCode::success, {}};
  ack.properties.topic_alias = 3;  // PUBLISH only
  std::string bytes = encoded(ack, Version::v5);
  EXPECT_EQ(bytes, std::string("\x40\x02\x00\x01", 4));
}

TEST(RoundTrip, SubscribeCarriesOneSubscriptionIdentifier) {
  Subscribe subscribe{1, {}, {{"a", {}}}};
  subscribe.properties.subscription_identifiers = {5, 6};
  auto decoded = decode_packet(bytes_of(encoded(subscribe, Version::v5)), Version::v5);
  ASSERT_TRUE(decoded.ok()) << decoded.error().why;
  EXPECT_EQ(std::get<Subscribe>(*decoded).properties.subscription_identifiers,
            std::vector<uint32_t>{5});
}

TEST(RoundTrip, AuthDoesNotExistBeforeV5) {
  EXPECT_EQ(encoded(Auth{}, Version::v311), "");
  EXPECT_EQ(encoded_size(Auth{}, Version::v311), 0u);
}

}  // namespace
}  // namespace stellwerk::mqtt

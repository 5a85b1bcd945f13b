// The generator's lean reading of a PUBLISH: the fields it acts on, from
// frames the broker's own encoder writes, and no read past a short frame.
#include "bench/delivery_frame.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "mqtt/codec.h"

namespace stellwerk::bench {
namespace {

std::vector<uint8_t> encoded(const mqtt::Publish& publish, mqtt::Version version) {
  std::string out;
  mqtt::encode(mqtt::Packet(publish), version, out);
  return std::vector<uint8_t>(out.begin(), out.end());
}

mqtt::Publish sample(mqtt::QoS qos) {
  mqtt::Publish publish;
  publish.qos = qos;
  publish.topic = "bench/t/17";
  publish.packet_id = qos == mqtt::QoS::at_most_once ? 0 : 4242;
  publish.payload = std::string(300, 'p');  // a two-byte remaining length
  return publish;
}

void expect_read_back(const mqtt::Publish& publish, mqtt::Version version) {
  const std::vector<uint8_t> frame = encoded(publish, version);
  const auto read = read_delivery_frame(frame, version);
  ASSERT_TRUE(read.has_value());
  EXPECT_EQ(read->qos, publish.qos);
  EXPECT_EQ(read->packet_id, publish.packet_id);
  EXPECT_EQ(read->topic, publish.topic);
  EXPECT_EQ(std::string(read->payload.begin(), read->payload.end()), publish.payload);
}

TEST(DeliveryFrame, ReadsEveryQoSInBothVersions) {
  for (auto version : {mqtt::Version::v311, mqtt::Version::v5}) {
    for (auto qos : {mqtt::QoS::at_most_once, mqtt::QoS::at_least_once, mqtt::QoS::exactly_once}) {
      SCOPED_TRACE(static_cast<int>(qos));
      expect_read_back(sample(qos), version);
    }
  }
}

TEST(DeliveryFrame, SkipsTheBrokersV5Properties) {
  mqtt::Publish publish = sample(mqtt::QoS::at_least_once);
  publish.properties.subscription_identifiers = {7, 300000};
  publish.properties.message_expiry_interval = 60;
  publish.properties.user_properties = {{"key", "value"}};
  expect_read_back(publish, mqtt::Version::v5);
}

TEST(DeliveryFrame, AFrameCutInsideItsFieldsIsRefused) {
  const std::vector<uint8_t> whole = encoded(sample(mqtt::QoS::exactly_once), mqtt::Version::v5);
  // Fixed header (3 bytes), topic (2 + 10), packet id (2), property length (1).
  for (size_t size = 0; size < 3 + 12 + 2 + 1; ++size) {
    SCOPED_TRACE(size);
    EXPECT_FALSE(read_delivery_frame(std::span(whole).first(size), mqtt::Version::v5).has_value());
  }
}

TEST(DeliveryFrame, QoSThreeIsRefused) {
  std::vector<uint8_t> frame = encoded(sample(mqtt::QoS::at_most_once), mqtt::Version::v311);
  frame[0] |= 0x06;
  EXPECT_FALSE(read_delivery_frame(frame, mqtt::Version::v311).has_value());
}

TEST(DeliveryFrame, AFiveByteLengthIsRefused) {
  const std::vector<uint8_t> frame = {0x30, 0xFF, 0xFF, 0xFF, 0xFF, 0x01, 0x00, 0x01, 'a'};
  EXPECT_FALSE(read_delivery_frame(frame, mqtt::Version::v311).has_value());
}

}  // namespace
}  // namespace stellwerk::bench

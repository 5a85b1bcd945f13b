// A PUBLISH from the broker as the generator reads it: only what it acts on
// (QoS, packet id, payload), found with bounds checks but without the
// broker-side validation of mqtt::decode_publish_frame (topic UTF-8,
// wildcards, each property). The stamp in the payload is what the generator
// checks, and it is a stronger check than any rule about the topic: a
// delivery that lands on the wrong subscriber, twice, late or out of order
// shows there. Decoding every delivery in full cost the generator about a
// fifth of its core (session 18 profile of fan-out 1->100), core time that
// the broker under test competes for when both share a machine.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "mqtt/packet.h"

namespace stellwerk::bench {

struct DeliveryFrame {
  mqtt::QoS qos = mqtt::QoS::at_most_once;
  uint16_t packet_id = 0;  // QoS 1 and 2 only
  std::string_view topic;
  std::span<const uint8_t> payload;
};

// `frame` is one whole PUBLISH (fixed header included, as mqtt::scan_frame
// delimits it). nullopt when its fields do not fit in it or its QoS is 3.
std::optional<DeliveryFrame> read_delivery_frame(std::span<const uint8_t> frame, mqtt::Version version);

}  // namespace stellwerk::bench

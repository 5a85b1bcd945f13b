// Pre-encoded packets that the generator patches instead of re-encoding.
//
// A publisher sends the same PUBLISH over and over with a new stamp and packet
// id, and every acknowledgement differs from the last only in its packet id.
// Encoding each once with the codec and patching those bytes costs a memcpy
// per message, which keeps the generator's share of the machine small.
#pragma once

#include <cstdint>
#include <string>

#include "bench/stamp.h"
#include "mqtt/packet.h"

namespace stellwerk::bench {

class PublishTemplate {
 public:
  PublishTemplate() = default;
  // `payload_size` >= kStampSize; the filler after the stamp is fixed.
  PublishTemplate(const std::string& topic, mqtt::QoS qos, size_t payload_size, mqtt::Version version);

  // Appends one PUBLISH carrying `stamp` (and `packet_id`, for QoS 1 and 2).
  void append_to(std::string& out, const Stamp& stamp, uint16_t packet_id) const;
  size_t size() const { return frame_.size(); }

 private:
  std::string frame_;
  size_t packet_id_offset_ = 0;  // 0: QoS 0, no packet id
  size_t payload_offset_ = 0;
};

// PUBACK, PUBREC, PUBREL or PUBCOMP with success and no properties: four
// bytes in every version.
class AckTemplate {
 public:
  AckTemplate() = default;
  AckTemplate(mqtt::PacketType type, mqtt::Version version);
  void append_to(std::string& out, uint16_t packet_id) const;

 private:
  std::string frame_;
};

// Encodes `packet` on its own (CONNECT, SUBSCRIBE, PINGREQ, DISCONNECT).
std::string encode_packet(const mqtt::Packet& packet, mqtt::Version version);

}  // namespace stellwerk::bench

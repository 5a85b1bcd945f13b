// Encoding the templates once with the codec and finding the bytes to patch.
#include "bench/templates.h"

#include <cassert>
#include <cstring>
#include <span>

#include "mqtt/codec.h"

namespace stellwerk::bench {
namespace {

// Filler after the stamp: not all zeros, so nothing along the way can make
// the payload cheaper to move than a real one.
std::string make_payload(size_t size) {
  std::string payload(size, '\0');
  for (size_t i = kStampSize; i < size; ++i) payload[i] = static_cast<char>('a' + i % 26);
  return payload;
}

size_t fixed_header_size(const std::string& frame) {
  std::span<const uint8_t> bytes(reinterpret_cast<const uint8_t*>(frame.data()), frame.size());
  return mqtt::scan_frame(bytes).header.header_size;
}

void put_u16(std::string& out, size_t offset, uint16_t value) {
  out[offset] = static_cast<char>(value >> 8);
  out[offset + 1] = static_cast<char>(value & 0xff);
}

}  // namespace

PublishTemplate::PublishTemplate(const std::string& topic, mqtt::QoS qos, size_t payload_size,
                                 mqtt::Version version) {
  mqtt::Publish publish;
  publish.topic = topic;
  publish.qos = qos;
  publish.packet_id = qos == mqtt::QoS::at_most_once ? 0 : 1;
  publish.payload = make_payload(payload_size);
  frame_ = encode_packet(mqtt::Packet(std::move(publish)), version);
  payload_offset_ = frame_.size() - payload_size;
  // Fixed header, then the topic (two length bytes and the text), then the id.
  if (qos != mqtt::QoS::at_most_once) packet_id_offset_ = fixed_header_size(frame_) + 2 + topic.size();
}

void PublishTemplate::append_to(std::string& out, const Stamp& stamp, uint16_t packet_id) const {
  const size_t start = out.size();
  out.append(frame_);
  write_stamp(stamp, reinterpret_cast<uint8_t*>(out.data() + start + payload_offset_));
  if (packet_id_offset_ != 0) put_u16(out, start + packet_id_offset_, packet_id);
}

AckTemplate::AckTemplate(mqtt::PacketType type, mqtt::Version version) {
  mqtt::Ack ack;
  ack.type = type;
  ack.packet_id = 1;
  frame_ = encode_packet(mqtt::Packet(std::move(ack)), version);
  assert(frame_.size() == 4);
}

void AckTemplate::append_to(std::string& out, uint16_t packet_id) const {
  const size_t start = out.size();
  out.append(frame_);
  put_u16(out, start + 2, packet_id);
}

std::string encode_packet(const mqtt::Packet& packet, mqtt::Version version) {
  std::string out;
  mqtt::encode(packet, version, out);
  return out;
}

}  // namespace stellwerk::bench

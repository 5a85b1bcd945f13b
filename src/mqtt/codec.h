// Encode and decode MQTT packets. Pure functions over bytes: no I/O, no clock.
//
// Decoding happens in two steps so that a reader never allocates a claimed
// length before the bytes arrive:
//   1. scan_frame() looks at the fixed header only and says "need more bytes",
//      "malformed" or "a frame of N bytes is complete";
//   2. decode_packet() turns a complete frame into a Packet, checking every rule
//      of the version's spec that can be checked on one packet alone
//      (reserved flags, lengths, property ids allowed for that packet type,
//      duplicate properties, UTF-8 well-formedness, QoS 3, packet id 0, ...).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "base/result.h"
#include "mqtt/packet.h"

namespace stellwerk::mqtt {

// The largest Remaining Length the variable byte integer can express.
inline constexpr uint32_t kMaxRemainingLength = 268'435'455;

struct FrameHeader {
  PacketType type = PacketType::connect;
  uint8_t flags = 0;              // low nibble of the first byte
  uint32_t remaining_length = 0;  // bytes after the fixed header
  uint8_t header_size = 0;        // 2..5
  size_t total_size() const { return header_size + static_cast<size_t>(remaining_length); }
};

enum class FrameStatus { complete, need_more, malformed };

struct FrameScan {
  FrameStatus status = FrameStatus::need_more;
  FrameHeader header;  // valid when status == complete
};

// Looks at the start of `bytes`. `complete` means the fixed header is whole and
// header.total_size() bytes are present. Malformed: packet type 0, or a
// variable byte integer longer than 4 bytes.
FrameScan scan_frame(std::span<const uint8_t> bytes);

struct DecodeError {
  // malformed_packet or protocol_error (v5 names); unsupported_protocol_version
  // for a CONNECT whose protocol name and level do not fit together.
  ReasonCode reason = ReasonCode::malformed_packet;
  std::string why;  // for the log line
  // The Protocol Level byte of a failed CONNECT (0 if it was not reached), so
  // the broker can answer in the version the client asked for.
  uint8_t connect_protocol_level = 0;
};

// Decodes one complete frame (`frame` is the whole packet including the fixed
// header). CONNECT is decoded whatever `version` says, since it carries the
// version itself; every other packet is decoded per `version`.
Result<Packet, DecodeError> decode_packet(std::span<const uint8_t> frame, Version version);

// A decoded PUBLISH whose topic and payload borrow the bytes of its frame, so
// that a receiver can act on it without building an mqtt::Publish (a Packet
// variant of 1.2 KB and two string copies per message).
struct PublishFrame {
  std::string_view topic;
  std::string_view payload;
  std::optional<Properties> properties;  // v5, and only when the packet carries any
  QoS qos = QoS::at_most_once;
  bool dup = false;
  bool retain = false;
  uint16_t packet_id = 0;  // QoS 1 and 2 only
};

// Decodes one complete PUBLISH frame with exactly the checks and errors of
// decode_packet(); any other packet type is malformed here. On success every
// field of `out` is set and its views point into `frame`.
[[nodiscard]] Status<DecodeError> decode_publish_frame(std::span<const uint8_t> frame, Version version,
                                                       PublishFrame& out);

// Fills `publish` with owned copies of the frame's fields (properties moved).
void assign_publish(PublishFrame&& frame, Publish& publish);

// Appends the encoding of `packet` for `version` to `out`: the shortest bytes
// that decode_packet reads back as `packet` (v5 short forms for acks,
// DISCONNECT and AUTH; properties in the order of their wire type). Fields
// that `version` lacks (properties, v5 reason codes) and properties that the
// packet type may not carry are left out. CONNECT is encoded for its own
// `version` field, with the protocol name that belongs to it ("MQIsdp" for 3.1,
// "MQTT" otherwise); AUTH before v5 encodes to nothing. The packet is assumed
// to respect the wire limits (strings under 64 KiB, Remaining Length at most
// kMaxRemainingLength); encode does not check them.
void encode(const Packet& packet, Version version, std::string& out);

// Size in bytes encode() would append.
size_t encoded_size(const Packet& packet, Version version);

// A PUBLISH whose fields are borrowed, for encoding a stored message without
// first copying its topic, payload and properties into an mqtt::Publish.
struct PublishView {
  std::string_view topic;
  std::string_view payload;
  const Properties* properties = nullptr;  // v5 only; null = none
  QoS qos = QoS::at_most_once;
  bool dup = false;
  bool retain = false;
  uint16_t packet_id = 0;  // QoS 1 and 2 only
};

// Appends exactly what encode() appends for the equal mqtt::Publish.
void encode_publish(const PublishView& publish, Version version, std::string& out);

// Variable byte integer helpers (exposed for tests and the WebSocket layer).
void encode_varint(uint32_t value, std::string& out);
size_t varint_size(uint32_t value);

}  // namespace stellwerk::mqtt

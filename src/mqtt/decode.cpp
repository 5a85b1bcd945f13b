// decode_packet: one complete frame to a Packet, for MQTT 3.1, 3.1.1 and 5.0.
//
// Every rule that can be checked on a single packet is checked here, and the
// failure carries the v5 reason code the spec names: Malformed Packet (0x81)
// when the bytes cannot be parsed as the spec describes, Protocol Error (0x82)
// for parseable data the spec forbids, and Unsupported Protocol Version (0x84)
// for a CONNECT whose protocol name and level do not match. Rules that need
// connection state (topic alias maximum, receive maximum, which side sent the
// packet) belong to the protocol module.
//
// Where the spec gives no code for a broken topic (a wildcard in a Topic Name,
// [MQTT-3.3.2-2]), the decoder calls it Malformed: the reason code tables
// reserve 0x90 Topic Name invalid for names that are "not malformed" but
// refused by the receiver.
#include <fmt/format.h>

#include "mqtt/codec.h"
#include "mqtt/properties.h"
#include "mqtt/validate.h"
#include "mqtt/wire.h"

namespace stellwerk::mqtt {
namespace {

using wire::Reader;
using wire::read_properties;
using wire::scope_of;

constexpr uint8_t kCleanStartFlag = 0x02;
constexpr uint8_t kWillFlag = 0x04;
constexpr uint8_t kWillRetainFlag = 0x20;
constexpr uint8_t kPasswordFlag = 0x40;
constexpr uint8_t kUserNameFlag = 0x80;

bool is_v5(Version version) { return version == Version::v5; }

// [MQTT-2.1.3-1] (v5) / [MQTT-2.2.2-1] (3.1.1). MQTT 3.1 set DUP and QoS bits
// on PUBREL, SUBSCRIBE and UNSUBSCRIBE retries, so 3.1 flags are not checked.
void check_reserved_flags(Reader& reader, const FrameHeader& header, Version version) {
  if (version == Version::v31) return;
  PacketType type = header.type;
  bool wants_0010 = type == PacketType::pubrel || type == PacketType::subscribe ||
                    type == PacketType::unsubscribe;
  uint8_t expected = wants_0010 ? 0x2 : 0x0;
  if (header.flags == expected) return;
  reader.malformed(fmt::format("reserved fixed header flags of {} must be {:#06b}",
                               packet_type_name(type), expected));
}

// [MQTT-1.5.5-1]: v5 requires every variable byte integer, the Remaining
// Length included, in its shortest form.
void check_header_length_form(Reader& reader, const FrameHeader& header, Version version) {
  if (!is_v5(version)) return;
  if (header.header_size != 1 + varint_size(header.remaining_length)) {
    reader.malformed("non-minimal remaining length");
  }
}

// Packet Identifiers are non-zero in every packet that has one
// [MQTT-2.2.1-3] [MQTT-2.2.1-5] [MQTT-2.2.1-6] (3.1.1: [MQTT-2.3.1-1]).
uint16_t read_packet_id(Reader& reader) {
  uint16_t id = reader.u16();
  if (reader.ok() && id == 0) reader.protocol_error("packet identifier 0");
  return id;
}

ReasonCode read_reason(Reader& reader, PacketType type) {
  auto reason = static_cast<ReasonCode>(reader.u8());
  if (reader.ok() && !is_allowed_reason_code(type, reason)) {
    reader.protocol_error(fmt::format("reason code {:#04x} is not a {} reason code",
                                      static_cast<unsigned>(reason), packet_type_name(type)));
  }
  return reason;
}

// Reads the v5 properties of `type` when the version has them.
void read_packet_properties(Reader& reader, PacketType type, Version version, Properties& out) {
  if (is_v5(version)) read_properties(reader, scope_of(type), out);
}

// --- CONNECT -------------------------------------------------------------

// The version a protocol name and level ask for: "MQIsdp" + 3, "MQTT" + 4 or 5.
std::optional<Version> requested_version(std::string_view name, uint8_t level) {
  if (level == 3 && name == "MQIsdp") return Version::v31;
  if ((level == 4 || level == 5) && name == "MQTT") return static_cast<Version>(level);
  return std::nullopt;
}

// [MQTT-3.1.2-3], [MQTT-3.1.2-11..13] (v5) / [MQTT-3.1.2-13..15], [MQTT-3.1.2-22] (3.1.1).
void check_connect_flags(Reader& reader, uint8_t flags, Version version) {
  uint8_t will_qos = (flags >> 3) & 0x3;
  if (flags & 0x01) return reader.malformed("CONNECT reserved flag is set");
  if (will_qos == 3) return reader.malformed("will QoS 3");
  if (!(flags & kWillFlag) && (will_qos != 0 || (flags & kWillRetainFlag))) {
    return reader.malformed("will QoS or will retain set without will flag");
  }
  // 3.1.1 only: 3.1 left this open and v5 allows a password without user name.
  if (version == Version::v311 && (flags & kPasswordFlag) && !(flags & kUserNameFlag)) {
    reader.malformed("password flag without user name flag");
  }
}

void read_will(Reader& reader, uint8_t flags, Version version, Will& will) {
  will.qos = static_cast<QoS>((flags >> 3) & 0x3);
  will.retain = flags & kWillRetainFlag;
  if (is_v5(version)) read_properties(reader, wire::kWillScope, will.properties);
  std::string_view topic = reader.utf8();
  // [MQTT-3.1.3-11] plus the Topic Name rules [MQTT-4.7.0-1] [MQTT-4.7.3-1].
  if (reader.ok() && !is_valid_topic_name(topic)) reader.malformed("invalid will topic");
  will.topic = topic;
  will.payload = reader.binary();
}

void read_connect_payload(Reader& reader, uint8_t flags, Version version, Connect& connect) {
  connect.client_id = reader.utf8();
  if (flags & kWillFlag) read_will(reader, flags, version, connect.will.emplace());
  if (flags & kUserNameFlag) connect.username = reader.utf8();
  if (flags & kPasswordFlag) connect.password = reader.binary();
}

void decode_connect(Reader& reader, const FrameHeader& header, uint8_t& level, Connect& connect) {
  std::string_view name = reader.binary();
  level = reader.u8();
  if (!reader.ok()) return;
  std::optional<Version> version = requested_version(name, level);
  if (!version) {
    reader.fail(ReasonCode::unsupported_protocol_version,
                fmt::format("unsupported protocol name/level {}", level));
    return;
  }
  connect.protocol_name = name;
  connect.version = *version;
  reader.require_minimal_varints(is_v5(*version));
  check_header_length_form(reader, header, *version);
  check_reserved_flags(reader, header, *version);
  uint8_t flags = reader.u8();
  connect.keep_alive = reader.u16();
  if (reader.ok()) check_connect_flags(reader, flags, *version);
  connect.clean_start = flags & kCleanStartFlag;
  read_packet_properties(reader, PacketType::connect, *version, connect.properties);
  read_connect_payload(reader, flags, *version, connect);
}

// --- CONNACK and PUBLISH ---------------------------------------------------

// [MQTT-3.2.2-1] (v5); 3.1.1 likewise reserves bits 7-1. 3.1 had no Session
// Present: the whole byte was unused.
bool read_session_present(Reader& reader, Version version) {
  uint8_t flags = reader.u8();
  if (version == Version::v31 || !reader.ok()) return false;
  if (flags & 0xFE) reader.malformed("CONNACK reserved flags set");
  return flags & 0x01;
}

ReasonCode read_v3_connack_code(Reader& reader) {
  uint8_t code = reader.u8();
  if (reader.ok() && code > static_cast<uint8_t>(V3ConnackCode::not_authorized)) {
    reader.malformed("reserved CONNACK return code");
  }
  return from_v3_connack_code(static_cast<V3ConnackCode>(code));
}

void decode_connack(Reader& reader, Version version, Connack& connack) {
  connack.session_present = read_session_present(reader, version);
  if (is_v5(version)) {
    connack.reason = read_reason(reader, PacketType::connack);
    read_properties(reader, scope_of(PacketType::connack), connack.properties);
  } else {
    connack.reason = read_v3_connack_code(reader);
  }
  // [MQTT-3.2.2-6] (v5) / [MQTT-3.2.2-4] (3.1.1)
  if (reader.ok() && connack.session_present && connack.reason != ReasonCode::success) {
    reader.protocol_error("Session Present set on a refused connection");
  }
}

// [MQTT-3.3.1-4]; [MQTT-3.3.1-2] is a 3.1.1 / v5 rule.
void read_publish_flags(Reader& reader, uint8_t flags, Version version, PublishFrame& publish) {
  uint8_t qos = (flags >> 1) & 0x3;
  if (qos == 3) return reader.malformed("PUBLISH with QoS 3");
  publish.qos = static_cast<QoS>(qos);
  publish.dup = flags & 0x08;
  publish.retain = flags & 0x01;
  if (version != Version::v31 && publish.dup && qos == 0) {
    reader.malformed("PUBLISH QoS 0 with DUP set");
  }
}

// [MQTT-3.3.2-1] [MQTT-3.3.2-2] [MQTT-4.7.3-1]; v5 3.3.2.1 allows an empty
// name only together with a Topic Alias.
void check_publish_topic(Reader& reader, const PublishFrame& publish, Version version) {
  if (!reader.ok()) return;
  if (has_wildcard(publish.topic)) return reader.malformed("wildcard in PUBLISH topic name");
  if (!publish.topic.empty()) return;
  if (!is_v5(version)) return reader.malformed("empty PUBLISH topic name");
  if (!publish.properties || !publish.properties->topic_alias) {
    reader.protocol_error("empty PUBLISH topic name without Topic Alias");
  }
}

// Most PUBLISH packets carry no properties: their one-byte length 0 is
// consumed without building a Properties. Anything else goes through
// read_properties, so the rules and errors are those of every packet.
void read_publish_properties(Reader& reader, Version version, std::optional<Properties>& out) {
  out.reset();
  if (!is_v5(version)) return;
  if (reader.remaining() > 0 && reader.peek() == 0) {
    (void)reader.u8();
    return;
  }
  read_properties(reader, scope_of(PacketType::publish), out.emplace());
}

void decode_publish_fields(Reader& reader, const FrameHeader& header, Version version, PublishFrame& publish) {
  read_publish_flags(reader, header.flags, version, publish);
  publish.topic = reader.utf8();
  publish.packet_id = publish.qos != QoS::at_most_once ? read_packet_id(reader) : 0;
  read_publish_properties(reader, version, publish.properties);
  check_publish_topic(reader, publish, version);
  publish.payload = reader.ok() ? reader.rest() : std::string_view();
}

void decode_publish(Reader& reader, const FrameHeader& header, Version version, Publish& publish) {
  PublishFrame frame;
  decode_publish_fields(reader, header, version, frame);
  if (reader.ok()) assign_publish(std::move(frame), publish);
}

// --- acknowledgements --------------------------------------------------------

// PUBACK, PUBREC, PUBREL, PUBCOMP. v5 allows dropping the properties, and then
// the reason code, when they are empty / Success (v5 3.4.2.1).
void decode_ack(Reader& reader, PacketType type, Version version, Ack& ack) {
  ack.type = type;
  ack.packet_id = read_packet_id(reader);
  if (!is_v5(version) || reader.remaining() == 0) return;
  ack.reason = read_reason(reader, type);
  if (reader.remaining() > 0) read_properties(reader, scope_of(type), ack.properties);
}

// 3.1.x SUBACK return codes [MQTT-3.9.3-2] (3.1.1): 0, 1, 2 or 0x80.
ReasonCode read_v3_suback_code(Reader& reader) {
  uint8_t code = reader.u8();
  bool valid = code <= 2 || code == 0x80;
  if (reader.ok() && !valid) reader.malformed("reserved SUBACK return code");
  return static_cast<ReasonCode>(code);
}

// SUBACK and UNSUBACK answer at least one filter each [MQTT-3.9.3-2] [MQTT-3.11.3-2].
std::vector<ReasonCode> read_reason_list(Reader& reader, PacketType type, Version version) {
  std::vector<ReasonCode> reasons;
  if (reader.ok() && reader.remaining() == 0) {
    reader.protocol_error(fmt::format("{} without reason codes", packet_type_name(type)));
  }
  reasons.reserve(reader.remaining());
  while (reader.ok() && reader.remaining() > 0) {
    bool v3_suback = !is_v5(version) && type == PacketType::suback;
    reasons.push_back(v3_suback ? read_v3_suback_code(reader) : read_reason(reader, type));
  }
  return reasons;
}

void decode_suback(Reader& reader, Version version, Suback& suback) {
  suback.packet_id = read_packet_id(reader);
  read_packet_properties(reader, PacketType::suback, version, suback.properties);
  suback.reasons = read_reason_list(reader, PacketType::suback, version);
}

// 3.1.x UNSUBACK is the packet identifier alone.
void decode_unsuback(Reader& reader, Version version, Unsuback& unsuback) {
  unsuback.packet_id = read_packet_id(reader);
  if (!is_v5(version)) return;
  read_properties(reader, scope_of(PacketType::unsuback), unsuback.properties);
  unsuback.reasons = read_reason_list(reader, PacketType::unsuback, version);
}

// --- SUBSCRIBE and UNSUBSCRIBE ---------------------------------------------

// 3.1.1 [MQTT-3-8.3-4]: reserved bits and QoS 3 are malformed.
SubscriptionOptions read_v3_options(Reader& reader) {
  uint8_t byte = reader.u8();
  if (reader.ok() && (byte & 0xFC)) reader.malformed("SUBSCRIBE reserved option bits set");
  if (reader.ok() && (byte & 0x3) == 3) reader.malformed("SUBSCRIBE with QoS 3");
  return SubscriptionOptions{static_cast<QoS>(byte & 0x3)};
}

// v5 3.8.3.1: reserved bits are malformed [MQTT-3.8.3-5]; QoS 3, Retain
// Handling 3 and No Local on a shared subscription [MQTT-3.8.3-4] are
// Protocol Errors.
SubscriptionOptions read_v5_options(Reader& reader, std::string_view filter) {
  uint8_t byte = reader.u8();
  SubscriptionOptions options;
  options.max_qos = static_cast<QoS>(byte & 0x3);
  options.no_local = byte & 0x04;
  options.retain_as_published = byte & 0x08;
  options.retain_handling = static_cast<RetainHandling>((byte >> 4) & 0x3);
  if (!reader.ok()) return options;
  if (byte & 0xC0) {
    reader.malformed("SUBSCRIBE reserved option bits set");
  } else if ((byte & 0x3) == 3) {
    reader.protocol_error("SUBSCRIBE with QoS 3");
  } else if (((byte >> 4) & 0x3) == 3) {
    reader.protocol_error("SUBSCRIBE with Retain Handling 3");
  } else if (options.no_local && parse_shared_filter(filter)) {
    reader.protocol_error("No Local on a shared subscription");
  }
  return options;
}

// [MQTT-3.8.3-2] (v5) / [MQTT-3.8.3-3] (3.1.1), and the UNSUBSCRIBE twins
// [MQTT-3.10.3-2]: an empty payload is a Protocol Error.
void require_payload(Reader& reader, PacketType type) {
  if (reader.ok() && reader.remaining() == 0) {
    reader.protocol_error(fmt::format("{} without topic filters", packet_type_name(type)));
  }
}

void decode_subscribe(Reader& reader, Version version, Subscribe& subscribe) {
  subscribe.packet_id = read_packet_id(reader);
  read_packet_properties(reader, PacketType::subscribe, version, subscribe.properties);
  require_payload(reader, PacketType::subscribe);
  while (reader.ok() && reader.remaining() > 0) {
    std::string_view filter = reader.utf8();
    SubscriptionOptions options =
        is_v5(version) ? read_v5_options(reader, filter) : read_v3_options(reader);
    if (reader.ok()) subscribe.topics.push_back(TopicRequest{std::string(filter), options});
  }
}

void decode_unsubscribe(Reader& reader, Version version, Unsubscribe& unsubscribe) {
  unsubscribe.packet_id = read_packet_id(reader);
  read_packet_properties(reader, PacketType::unsubscribe, version, unsubscribe.properties);
  require_payload(reader, PacketType::unsubscribe);
  while (reader.ok() && reader.remaining() > 0) {
    std::string_view filter = reader.utf8();
    if (reader.ok()) unsubscribe.filters.emplace_back(filter);
  }
}

// --- DISCONNECT and AUTH -----------------------------------------------------

// v5 3.14.2.1: reason and properties may be left out; 3.1.x has no body.
void decode_disconnect(Reader& reader, Version version, Disconnect& disconnect) {
  if (!is_v5(version) || reader.remaining() == 0) return;
  disconnect.reason = read_reason(reader, PacketType::disconnect);
  if (reader.remaining() > 0) {
    read_properties(reader, scope_of(PacketType::disconnect), disconnect.properties);
  }
}

// v5 3.15.2: either an empty body, or reason code plus properties with an
// Authentication Method.
void decode_auth(Reader& reader, Version version, Auth& auth) {
  if (!is_v5(version)) {
    reader.malformed("AUTH exists only in MQTT 5");
    return;
  }
  if (reader.remaining() == 0) return;
  auth.reason = read_reason(reader, PacketType::auth);
  read_properties(reader, scope_of(PacketType::auth), auth.properties);
  if (reader.ok() && !auth.properties.authentication_method) {
    reader.protocol_error("AUTH without Authentication Method");
  }
}

void decode_body(Reader& reader, const FrameHeader& header, Version version, Packet& out) {
  switch (header.type) {
    case PacketType::connect: return;  // handled by decode_connect
    case PacketType::connack: return decode_connack(reader, version, out.emplace<Connack>());
    case PacketType::publish:
      return decode_publish(reader, header, version, out.emplace<Publish>());
    case PacketType::puback:
    case PacketType::pubrec:
    case PacketType::pubrel:
    case PacketType::pubcomp: return decode_ack(reader, header.type, version, out.emplace<Ack>());
    case PacketType::subscribe:
      return decode_subscribe(reader, version, out.emplace<Subscribe>());
    case PacketType::suback: return decode_suback(reader, version, out.emplace<Suback>());
    case PacketType::unsubscribe:
      return decode_unsubscribe(reader, version, out.emplace<Unsubscribe>());
    case PacketType::unsuback: return decode_unsuback(reader, version, out.emplace<Unsuback>());
    case PacketType::pingreq: return;  // `out` already holds one
    case PacketType::pingresp: out.emplace<Pingresp>(); return;
    case PacketType::disconnect:
      return decode_disconnect(reader, version, out.emplace<Disconnect>());
    case PacketType::auth: return decode_auth(reader, version, out.emplace<Auth>());
  }
}

// What every packet but CONNECT (whose version is only known once it is
// read) checks before its body.
void start_versioned(Reader& reader, const FrameHeader& header, Version version) {
  reader.require_minimal_varints(is_v5(version));
  check_header_length_form(reader, header, version);
  if (header.type != PacketType::publish) check_reserved_flags(reader, header, version);
}

void decode_versioned(Reader& reader, const FrameHeader& header, Version version, Packet& out) {
  start_versioned(reader, header, version);
  decode_body(reader, header, version, out);
}

// The header of a frame that must be exactly one whole packet; nullopt when
// the bytes say otherwise.
std::optional<FrameHeader> whole_frame_header(std::span<const uint8_t> frame) {
  FrameScan scan = scan_frame(frame);
  if (scan.status != FrameStatus::complete || scan.header.total_size() != frame.size()) return std::nullopt;
  return scan.header;
}

DecodeError frame_size_mismatch() {
  return DecodeError{ReasonCode::malformed_packet, "frame size does not match its header"};
}

}  // namespace

void assign_publish(PublishFrame&& frame, Publish& publish) {
  publish.qos = frame.qos;
  publish.dup = frame.dup;
  publish.retain = frame.retain;
  publish.packet_id = frame.packet_id;
  publish.topic = frame.topic;
  publish.payload = frame.payload;
  publish.properties = frame.properties ? std::move(*frame.properties) : Properties{};
}

Status<DecodeError> decode_publish_frame(std::span<const uint8_t> frame, Version version, PublishFrame& out) {
  const std::optional<FrameHeader> header = whole_frame_header(frame);
  if (!header) return fail(frame_size_mismatch());
  if (header->type != PacketType::publish) {
    return fail(DecodeError{ReasonCode::malformed_packet, "not a PUBLISH"});
  }
  Reader reader(frame.subspan(header->header_size));
  start_versioned(reader, *header, version);
  decode_publish_fields(reader, *header, version, out);
  // The payload is the rest of the frame: no trailing bytes to check.
  if (!reader.ok()) return fail(reader.take_error());
  return {};
}

Result<Packet, DecodeError> decode_packet(std::span<const uint8_t> frame, Version version) {
  const std::optional<FrameHeader> whole = whole_frame_header(frame);
  if (!whole) return fail(frame_size_mismatch());
  const FrameHeader& header = *whole;
  Reader reader(frame.subspan(header.header_size));
  uint8_t level = 0;
  // Decoded in place: the packet structs are large enough that moves show up.
  Packet packet(std::in_place_type<Pingreq>);
  if (header.type == PacketType::connect) {
    decode_connect(reader, header, level, packet.emplace<Connect>());
  } else {
    decode_versioned(reader, header, version, packet);
  }
  if (reader.ok() && reader.remaining() > 0) {
    reader.malformed(fmt::format("trailing bytes after {}", packet_type_name(header.type)));
  }
  if (!reader.ok()) {
    DecodeError error = reader.take_error();
    error.connect_protocol_level = level;
    return fail(std::move(error));
  }
  return packet;
}

}  // namespace stellwerk::mqtt

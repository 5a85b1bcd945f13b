// encode and encoded_size. Each packet type has one template, emit_body(),
// that runs twice: over a SizeSink to learn the Remaining Length, then over a
// WriteSink into memory reserved once. Both runs take the same branches, so
// encoded_size() and encode() cannot disagree.
#include <cassert>

#include "mqtt/codec.h"
#include "mqtt/properties.h"
#include "mqtt/wire.h"

namespace stellwerk::mqtt {
namespace {

using wire::SizeSink;
using wire::WriteSink;
using wire::scope_of;
using wire::write_properties;

bool is_v5(Version version) { return version == Version::v5; }

uint8_t code(ReasonCode reason) { return static_cast<uint8_t>(reason); }

// 3.1.x SUBACK knows granted QoS 0..2 and one failure code, 0x80.
uint8_t v3_suback_code(ReasonCode reason) {
  return code(reason) <= 2 ? code(reason) : 0x80;
}

uint8_t connect_flags(const Connect& connect) {
  uint8_t flags = connect.clean_start ? 0x02 : 0x00;
  if (connect.will) {
    flags |= 0x04 | static_cast<uint8_t>(static_cast<uint8_t>(connect.will->qos) << 3);
    if (connect.will->retain) flags |= 0x20;
  }
  if (connect.password) flags |= 0x40;
  if (connect.username) flags |= 0x80;
  return flags;
}

uint8_t options_byte(const SubscriptionOptions& options, Version version) {
  auto byte = static_cast<uint8_t>(options.max_qos);
  if (!is_v5(version)) return byte;
  if (options.no_local) byte |= 0x04;
  if (options.retain_as_published) byte |= 0x08;
  return byte | static_cast<uint8_t>(static_cast<uint8_t>(options.retain_handling) << 4);
}

uint8_t fixed_flags(const Packet& packet) {
  if (const auto* publish = std::get_if<Publish>(&packet)) {
    uint8_t qos_bits = static_cast<uint8_t>(static_cast<uint8_t>(publish->qos) << 1);
    return static_cast<uint8_t>((publish->dup ? 0x08 : 0) | qos_bits | (publish->retain ? 1 : 0));
  }
  PacketType type = packet_type(packet);
  bool wants_0010 = type == PacketType::pubrel || type == PacketType::subscribe ||
                    type == PacketType::unsubscribe;
  return wants_0010 ? 0x02 : 0x00;
}

bool has_properties(const Properties& properties, PacketType type) {
  return wire::properties_content_size(properties, scope_of(type)) > 0;
}

// The version argument is ignored: CONNECT carries its own.
template <typename Sink>
void emit_body(const Connect& connect, Version, Sink& sink) {
  Version version = connect.version;
  sink.string(version == Version::v31 ? "MQIsdp" : "MQTT");
  sink.u8(static_cast<uint8_t>(version));
  sink.u8(connect_flags(connect));
  sink.u16(connect.keep_alive);
  if (is_v5(version)) write_properties(connect.properties, scope_of(PacketType::connect), sink);
  sink.string(connect.client_id);
  if (connect.will) {
    if (is_v5(version)) write_properties(connect.will->properties, wire::kWillScope, sink);
    sink.string(connect.will->topic);
    sink.string(connect.will->payload);
  }
  if (connect.username) sink.string(*connect.username);
  if (connect.password) sink.string(*connect.password);
}

template <typename Sink>
void emit_body(const Connack& connack, Version version, Sink& sink) {
  sink.u8(version != Version::v31 && connack.session_present ? 0x01 : 0x00);
  if (!is_v5(version)) {
    sink.u8(static_cast<uint8_t>(to_v3_connack_code(connack.reason)));
    return;
  }
  sink.u8(code(connack.reason));
  write_properties(connack.properties, scope_of(PacketType::connack), sink);
}

template <typename Sink>
void emit_body(const PublishView& publish, Version version, Sink& sink) {
  sink.string(publish.topic);
  if (publish.qos != QoS::at_most_once) sink.u16(publish.packet_id);
  if (is_v5(version)) {
    static const Properties none;
    write_properties(publish.properties ? *publish.properties : none, scope_of(PacketType::publish), sink);
  }
  sink.raw(publish.payload);
}

PublishView view_of(const Publish& publish) {
  return PublishView{publish.topic, publish.payload, &publish.properties, publish.qos,
                     publish.dup,   publish.retain,  publish.packet_id};
}

template <typename Sink>
void emit_body(const Publish& publish, Version version, Sink& sink) {
  emit_body(view_of(publish), version, sink);
}

// v5 short forms (3.4.2.1): no properties, then no Success reason code.
template <typename Sink>
void emit_body(const Ack& ack, Version version, Sink& sink) {
  sink.u16(ack.packet_id);
  if (!is_v5(version)) return;
  bool with_properties = has_properties(ack.properties, ack.type);
  if (ack.reason == ReasonCode::success && !with_properties) return;
  sink.u8(code(ack.reason));
  if (with_properties) write_properties(ack.properties, scope_of(ack.type), sink);
}

template <typename Sink>
void emit_body(const Subscribe& subscribe, Version version, Sink& sink) {
  sink.u16(subscribe.packet_id);
  if (is_v5(version)) {
    write_properties(subscribe.properties, scope_of(PacketType::subscribe), sink);
  }
  for (const TopicRequest& topic : subscribe.topics) {
    sink.string(topic.filter);
    sink.u8(options_byte(topic.options, version));
  }
}

template <typename Sink>
void emit_body(const Suback& suback, Version version, Sink& sink) {
  sink.u16(suback.packet_id);
  if (is_v5(version)) write_properties(suback.properties, scope_of(PacketType::suback), sink);
  for (ReasonCode reason : suback.reasons) {
    sink.u8(is_v5(version) ? code(reason) : v3_suback_code(reason));
  }
}

template <typename Sink>
void emit_body(const Unsubscribe& unsubscribe, Version version, Sink& sink) {
  sink.u16(unsubscribe.packet_id);
  if (is_v5(version)) {
    write_properties(unsubscribe.properties, scope_of(PacketType::unsubscribe), sink);
  }
  for (const std::string& filter : unsubscribe.filters) sink.string(filter);
}

// 3.1.x UNSUBACK carries only the packet identifier.
template <typename Sink>
void emit_body(const Unsuback& unsuback, Version version, Sink& sink) {
  sink.u16(unsuback.packet_id);
  if (!is_v5(version)) return;
  write_properties(unsuback.properties, scope_of(PacketType::unsuback), sink);
  for (ReasonCode reason : unsuback.reasons) sink.u8(code(reason));
}

template <typename Sink>
void emit_body(const Pingreq&, Version, Sink&) {}

template <typename Sink>
void emit_body(const Pingresp&, Version, Sink&) {}

// v5 3.14.2.1: an empty body means Success; a lone reason code means no
// properties. 3.1.x DISCONNECT has no body.
template <typename Sink>
void emit_body(const Disconnect& disconnect, Version version, Sink& sink) {
  if (!is_v5(version)) return;
  bool with_properties = has_properties(disconnect.properties, PacketType::disconnect);
  if (disconnect.reason == ReasonCode::success && !with_properties) return;
  sink.u8(code(disconnect.reason));
  if (with_properties) {
    write_properties(disconnect.properties, scope_of(PacketType::disconnect), sink);
  }
}

// v5 3.15.2.1: only the Success-without-properties form may drop the body;
// otherwise the Property Length is always present.
template <typename Sink>
void emit_body(const Auth& auth, Version, Sink& sink) {
  bool with_properties = has_properties(auth.properties, PacketType::auth);
  if (auth.reason == ReasonCode::success && !with_properties) return;
  sink.u8(code(auth.reason));
  write_properties(auth.properties, scope_of(PacketType::auth), sink);
}

bool exists_in(const Packet& packet, Version version) {
  return is_v5(version) || !std::holds_alternative<Auth>(packet);
}

size_t body_size(const Packet& packet, Version version) {
  SizeSink sink;
  std::visit([&](const auto& value) { emit_body(value, version, sink); }, packet);
  return sink.size();
}

}  // namespace

void encode_publish(const PublishView& publish, Version version, std::string& out) {
  SizeSink size_sink;
  emit_body(publish, version, size_sink);
  const size_t body = size_sink.size();
  const size_t start = out.size();
  out.resize(start + 1 + varint_size(static_cast<uint32_t>(body)) + body);
  WriteSink sink(reinterpret_cast<uint8_t*>(out.data() + start));
  const auto qos_bits = static_cast<uint8_t>(static_cast<uint8_t>(publish.qos) << 1);
  const auto flags = static_cast<uint8_t>((publish.dup ? 0x08 : 0) | qos_bits | (publish.retain ? 1 : 0));
  sink.u8(static_cast<uint8_t>(static_cast<uint8_t>(PacketType::publish) << 4 | flags));
  sink.varint(static_cast<uint32_t>(body));
  emit_body(publish, version, sink);
  assert(sink.position() == reinterpret_cast<const uint8_t*>(out.data() + out.size()));
}

size_t encoded_size(const Packet& packet, Version version) {
  if (!exists_in(packet, version)) return 0;
  size_t body = body_size(packet, version);
  return 1 + varint_size(static_cast<uint32_t>(body)) + body;
}

void encode(const Packet& packet, Version version, std::string& out) {
  if (!exists_in(packet, version)) return;
  size_t body = body_size(packet, version);
  size_t total = 1 + varint_size(static_cast<uint32_t>(body)) + body;
  size_t start = out.size();
  out.resize(start + total);
  WriteSink sink(reinterpret_cast<uint8_t*>(out.data() + start));
  auto type = static_cast<uint8_t>(packet_type(packet));
  sink.u8(static_cast<uint8_t>(type << 4 | fixed_flags(packet)));
  sink.varint(static_cast<uint32_t>(body));
  std::visit([&](const auto& value) { emit_body(value, version, sink); }, packet);
  assert(sink.position() == reinterpret_cast<const uint8_t*>(out.data() + out.size()));
}

}  // namespace stellwerk::mqtt

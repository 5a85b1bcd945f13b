// MQTT 5 properties (v5 section 2.2.2, Table 2-4). Each property has an
// identifier, a wire type and the set of packets (plus Will Properties) that
// may carry it. Fields of the same wire type are listed in arrays of member
// pointers (in properties.h, shared with the store) so that reading, writing
// and measuring are loops over data rather than one hand-written branch per
// property. UTF-8 strings and binary data share one array; Info::kind tells
// them apart.
#include "mqtt/properties.h"

#include <fmt/format.h>

#include <array>

namespace stellwerk::mqtt::wire {
namespace {

enum class Kind : uint8_t { none, byte, two_byte, four_byte, varint, utf8, binary, pair };

// What a value must satisfy beyond its wire type; a violation is a Protocol
// Error in every case the spec names.
enum class Rule : uint8_t { any, zero_or_one, non_zero, topic_name };

constexpr uint8_t kMaxPropertyId = 0x2A;

constexpr uint16_t in(std::initializer_list<PacketType> types, bool will = false) {
  uint16_t mask = will ? 1 : 0;
  for (PacketType type : types) mask |= uint16_t(1u << static_cast<unsigned>(type));
  return mask;
}
using P = PacketType;
constexpr uint16_t kWillAndPublish = in({P::publish}, true);
constexpr uint16_t kEveryScope = in({P::connect, P::connack, P::publish, P::puback, P::pubrec,
                                     P::pubrel, P::pubcomp, P::subscribe, P::suback,
                                     P::unsubscribe, P::unsuback, P::disconnect, P::auth},
                                    true);

struct Info {
  Kind kind = Kind::none;
  uint16_t scopes = 0;
  Rule rule = Rule::any;
  uint8_t index = 0;  // position in the PropertyField array of its kind
  const char* name = "";
};

template <typename T, size_t N>
constexpr uint8_t index_in(const PropertyField<T> (&fields)[N], uint8_t id) {
  for (size_t i = 0; i < N; ++i) {
    if (fields[i].id == id) return static_cast<uint8_t>(i);
  }
  return 0;
}

constexpr std::array<Info, kMaxPropertyId + 1> make_table() {
  std::array<Info, kMaxPropertyId + 1> t{};
  auto byte = [&](uint8_t id, uint16_t scopes, Rule rule, const char* name) {
    t[id] = {Kind::byte, scopes, rule, index_in(kByteProperties, id), name};
  };
  auto two = [&](uint8_t id, uint16_t scopes, Rule rule, const char* name) {
    t[id] = {Kind::two_byte, scopes, rule, index_in(kTwoByteProperties, id), name};
  };
  auto four = [&](uint8_t id, uint16_t scopes, Rule rule, const char* name) {
    t[id] = {Kind::four_byte, scopes, rule, index_in(kFourByteProperties, id), name};
  };
  auto text = [&](uint8_t id, Kind kind, uint16_t scopes, Rule rule, const char* name) {
    t[id] = {kind, scopes, rule, index_in(kStringProperties, id), name};
  };
  byte(0x01, kWillAndPublish, Rule::any, "Payload Format Indicator");
  four(0x02, kWillAndPublish, Rule::any, "Message Expiry Interval");
  text(0x03, Kind::utf8, kWillAndPublish, Rule::any, "Content Type");
  text(0x08, Kind::utf8, kWillAndPublish, Rule::topic_name, "Response Topic");
  text(0x09, Kind::binary, kWillAndPublish, Rule::any, "Correlation Data");
  t[kSubscriptionIdentifierId] = {Kind::varint, in({P::publish, P::subscribe}), Rule::non_zero, 0,
                                  "Subscription Identifier"};
  four(0x11, in({P::connect, P::connack, P::disconnect}), Rule::any, "Session Expiry Interval");
  text(0x12, Kind::utf8, in({P::connack}), Rule::any, "Assigned Client Identifier");
  two(0x13, in({P::connack}), Rule::any, "Server Keep Alive");
  text(0x15, Kind::utf8, in({P::connect, P::connack, P::auth}), Rule::any,
       "Authentication Method");
  text(0x16, Kind::binary, in({P::connect, P::connack, P::auth}), Rule::any,
       "Authentication Data");
  byte(0x17, in({P::connect}), Rule::zero_or_one, "Request Problem Information");
  four(0x18, in({}, true), Rule::any, "Will Delay Interval");
  byte(0x19, in({P::connect}), Rule::zero_or_one, "Request Response Information");
  text(0x1A, Kind::utf8, in({P::connack}), Rule::any, "Response Information");
  text(0x1C, Kind::utf8, in({P::connack, P::disconnect}), Rule::any, "Server Reference");
  text(0x1F, Kind::utf8,
       in({P::connack, P::puback, P::pubrec, P::pubrel, P::pubcomp, P::suback, P::unsuback,
           P::disconnect, P::auth}),
       Rule::any, "Reason String");
  two(0x21, in({P::connect, P::connack}), Rule::non_zero, "Receive Maximum");
  two(0x22, in({P::connect, P::connack}), Rule::any, "Topic Alias Maximum");
  two(0x23, in({P::publish}), Rule::non_zero, "Topic Alias");
  byte(0x24, in({P::connack}), Rule::zero_or_one, "Maximum QoS");
  byte(0x25, in({P::connack}), Rule::zero_or_one, "Retain Available");
  t[kUserPropertyId] = {Kind::pair, kEveryScope, Rule::any, 0, "User Property"};
  four(0x27, in({P::connect, P::connack}), Rule::non_zero, "Maximum Packet Size");
  byte(0x28, in({P::connack}), Rule::zero_or_one, "Wildcard Subscription Available");
  byte(0x29, in({P::connack}), Rule::zero_or_one, "Subscription Identifier Available");
  byte(0x2A, in({P::connack}), Rule::zero_or_one, "Shared Subscription Available");
  return t;
}

constexpr std::array<Info, kMaxPropertyId + 1> kTable = make_table();

bool allowed(uint8_t id, PropertyScope scope) { return (kTable[id].scopes >> scope.bit) & 1; }

void check_rule(Reader& reader, const Info& info, uint32_t value) {
  if (info.rule == Rule::zero_or_one && value > 1) {
    reader.protocol_error(fmt::format("{} must be 0 or 1", info.name));
  } else if (info.rule == Rule::non_zero && value == 0) {
    reader.protocol_error(fmt::format("{} must not be 0", info.name));
  }
}

// "It is a Protocol Error to include the <property> more than once" (v5 3.x).
template <typename T>
void store_once(Reader& reader, const Info& info, std::optional<T>& slot, T value) {
  if (slot.has_value()) {
    reader.protocol_error(fmt::format("{} appears more than once", info.name));
    return;
  }
  slot = std::move(value);
}

void read_text(Reader& reader, const Info& info, Properties& out) {
  std::string_view text = info.kind == Kind::utf8 ? reader.utf8() : reader.binary();
  if (!reader.ok()) return;
  // [MQTT-3.3.2-14]: like a PUBLISH Topic Name, a Response Topic with
  // wildcards is not a well-formed topic name.
  if (info.rule == Rule::topic_name && !is_valid_topic_name(text)) {
    reader.malformed(fmt::format("{} is not a valid topic name", info.name));
    return;
  }
  store_once(reader, info, out.*kStringProperties[info.index].member, std::string(text));
}

void read_subscription_identifier(Reader& reader, const Info& info, PropertyScope scope,
                                  Properties& out) {
  uint32_t value = reader.varint();
  if (!reader.ok()) return;
  check_rule(reader, info, value);
  // A PUBLISH may carry one per matching subscription; SUBSCRIBE only one (v5 3.8.2.1.2).
  if (scope.bit == scope_of(PacketType::subscribe).bit && !out.subscription_identifiers.empty()) {
    reader.protocol_error("Subscription Identifier appears more than once");
  }
  out.subscription_identifiers.push_back(value);
}

void read_user_property(Reader& reader, Properties& out) {
  std::string_view key = reader.utf8();
  std::string_view value = reader.utf8();
  if (reader.ok()) out.user_properties.emplace_back(key, value);
}

void read_one_property(Reader& reader, PropertyScope scope, Properties& out) {
  uint32_t id = reader.varint();
  if (!reader.ok()) return;
  if (id > kMaxPropertyId || kTable[id].kind == Kind::none) {
    reader.malformed(fmt::format("unknown property identifier 0x{:02X}", id));
    return;
  }
  const Info& info = kTable[id];
  if (!allowed(static_cast<uint8_t>(id), scope)) {
    reader.malformed(fmt::format("{} is not allowed here", info.name));
    return;
  }
  switch (info.kind) {
    case Kind::byte: {
      uint8_t value = reader.u8();
      check_rule(reader, info, value);
      store_once(reader, info, out.*kByteProperties[info.index].member, value);
      break;
    }
    case Kind::two_byte: {
      uint16_t value = reader.u16();
      check_rule(reader, info, value);
      store_once(reader, info, out.*kTwoByteProperties[info.index].member, value);
      break;
    }
    case Kind::four_byte: {
      uint32_t value = reader.u32();
      check_rule(reader, info, value);
      store_once(reader, info, out.*kFourByteProperties[info.index].member, value);
      break;
    }
    case Kind::utf8:
    case Kind::binary: read_text(reader, info, out); break;
    case Kind::varint: read_subscription_identifier(reader, info, scope, out); break;
    case Kind::pair: read_user_property(reader, out); break;
    case Kind::none: break;
  }
}

// Rules that span two properties of one block.
void check_block(Reader& reader, const Properties& properties) {
  // v5 3.1.2.11.10, 3.2.2.3.18, 3.15.2.2.3
  if (properties.authentication_data && !properties.authentication_method) {
    reader.protocol_error("Authentication Data without Authentication Method");
  }
}

// Values in their v5 wire form: big-endian integers, length-prefixed strings.
template <typename Sink>
void write_value(Sink& sink, uint8_t value) {
  sink.u8(value);
}
template <typename Sink>
void write_value(Sink& sink, uint16_t value) {
  sink.u16(value);
}
template <typename Sink>
void write_value(Sink& sink, uint32_t value) {
  sink.u32(value);
}
template <typename Sink>
void write_value(Sink& sink, const std::string& value) {
  sink.string(value);
}

template <typename Sink>
void write_content(const Properties& p, PropertyScope scope, Sink& sink) {
  for_each_property_field([&](const auto& field) {
    const auto& value = p.*field.member;
    if (!value || !allowed(field.id, scope)) return;
    sink.u8(field.id);
    write_value(sink, *value);
  });
  if (allowed(kSubscriptionIdentifierId, scope)) {
    // SUBSCRIBE carries at most one; only PUBLISH may repeat it.
    bool single = scope.bit == scope_of(PacketType::subscribe).bit;
    for (uint32_t id : p.subscription_identifiers) {
      sink.u8(kSubscriptionIdentifierId);
      sink.varint(id);
      if (single) break;
    }
  }
  for (const auto& [key, value] : p.user_properties) {
    sink.u8(kUserPropertyId);
    sink.string(key);
    sink.string(value);
  }
}

}  // namespace

void read_properties(Reader& reader, PropertyScope scope, Properties& out) {
  uint32_t length = reader.varint();
  if (!reader.ok()) return;
  if (length > reader.remaining()) {
    reader.malformed("property length overruns the packet");
    return;
  }
  size_t stop = reader.remaining() - length;
  while (reader.ok() && reader.remaining() > stop) read_one_property(reader, scope, out);
  if (reader.ok() && reader.remaining() < stop) {
    reader.malformed("property overruns the property length");
  }
  if (reader.ok()) check_block(reader, out);
}

size_t properties_content_size(const Properties& properties, PropertyScope scope) {
  SizeSink sink;
  write_content(properties, scope, sink);
  return sink.size();
}

void write_properties(const Properties& properties, PropertyScope scope, SizeSink& sink) {
  size_t content = properties_content_size(properties, scope);
  sink.varint(static_cast<uint32_t>(content));
  sink.add(content);
}

void write_properties(const Properties& properties, PropertyScope scope, WriteSink& sink) {
  size_t content = properties_content_size(properties, scope);
  sink.varint(static_cast<uint32_t>(content));
  write_content(properties, scope, sink);
}

}  // namespace stellwerk::mqtt::wire

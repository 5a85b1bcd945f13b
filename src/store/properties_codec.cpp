// mqtt::Properties in records. Every property the packet model has is kept,
// not only those a message uses today, so that a new use of a property does
// not silently lose it across a restart. The map from MQTT property id to
// struct member is the mqtt module's (for_each_property_field); only the byte
// form of each value is the store's own (docs/formats/store.md).
#include "mqtt/properties.h"
#include "store/record.h"

namespace stellwerk::store {
namespace {

using mqtt::Properties;
using namespace coding;

using mqtt::wire::for_each_property_field;
using mqtt::wire::kSubscriptionIdentifierId;
using mqtt::wire::kUserPropertyId;

constexpr uint8_t kEnd = 0x00;

// Each value makes its own room: properties are rare and their sizes vary.
void put_value(Writer& out, uint8_t value) { out.u8(value); }
void put_value(Writer& out, uint16_t value) { out.u16(value); }
void put_value(Writer& out, uint32_t value) { out.u32(value); }
void put_value(Writer& out, const std::string& value) {
  out.reserve(kMaxVarintSize + value.size());
  out.bytes(value);
}

void get_value(Reader& reader, uint8_t& value) { value = reader.u8(); }
void get_value(Reader& reader, uint16_t& value) { value = reader.u16(); }
void get_value(Reader& reader, uint32_t& value) { value = reader.u32(); }
void get_value(Reader& reader, std::string& value) { value = reader.string(); }

void encode_fields(const Properties& properties, Writer& out) {
  for_each_property_field([&](const auto& field) {
    const auto& value = properties.*field.member;
    if (!value) return;
    out.reserve(1 + sizeof(uint32_t));  // the id and any fixed-width value
    out.u8(field.id);
    put_value(out, *value);
  });
}

// True when `id` is a single-valued property (and its value was read).
bool decode_field(uint8_t id, Reader& reader, Properties& out) {
  bool found = false;
  for_each_property_field([&](const auto& field) {
    if (found || field.id != id) return;
    auto& slot = out.*field.member;
    get_value(reader, slot.emplace());
    found = true;
  });
  return found;
}

bool decode_repeated(uint8_t id, Reader& reader, Properties& out) {
  if (id == kSubscriptionIdentifierId) {
    out.subscription_identifiers.push_back(reader.varint32());
    return true;
  }
  if (id == kUserPropertyId) {
    std::string key = reader.string();
    out.user_properties.emplace_back(std::move(key), reader.string());
    return true;
  }
  return false;
}

bool decode_one(uint8_t id, Reader& reader, Properties& out) {
  return decode_field(id, reader, out) || decode_repeated(id, reader, out);
}

}  // namespace

void encode_properties(const Properties& properties, Writer& out) {
  encode_fields(properties, out);
  for (uint32_t identifier : properties.subscription_identifiers) {
    out.reserve(1 + kMaxVarintSize);
    out.u8(kSubscriptionIdentifierId);
    out.varint(identifier);
  }
  for (const auto& [key, value] : properties.user_properties) {
    out.reserve(1 + 2 * kMaxVarintSize + key.size() + value.size());
    out.u8(kUserPropertyId);
    out.bytes(key);
    out.bytes(value);
  }
  out.reserve(1);
  out.u8(kEnd);
}

void encode_properties(const Properties& properties, std::string& out) {
  Writer writer(out);
  encode_properties(properties, writer);
}

bool decode_properties(Reader& reader, Properties& out) {
  for (;;) {
    const uint8_t id = reader.u8();
    if (!reader.ok()) return false;
    if (id == kEnd) return true;
    if (!decode_one(id, reader, out) || !reader.ok()) return false;
  }
}

}  // namespace stellwerk::store

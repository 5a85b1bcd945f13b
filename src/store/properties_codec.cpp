// mqtt::Properties in records. Every property the packet model has is kept,
// not only those a message uses today, so that a new use of a property does
// not silently lose it across a restart. One table per value type maps the
// MQTT property id to the struct member; both directions read the tables.
#include <array>

#include "store/record.h"

namespace stellwerk::store {
namespace {

using mqtt::Properties;
using namespace coding;

template <typename T>
struct Field {
  uint8_t id;
  std::optional<T> Properties::*member;
};

constexpr std::array<Field<uint8_t>, 8> kByteFields{{
    {0x01, &Properties::payload_format_indicator},
    {0x17, &Properties::request_problem_information},
    {0x19, &Properties::request_response_information},
    {0x24, &Properties::maximum_qos},
    {0x25, &Properties::retain_available},
    {0x28, &Properties::wildcard_subscription_available},
    {0x29, &Properties::subscription_identifier_available},
    {0x2A, &Properties::shared_subscription_available},
}};
constexpr std::array<Field<uint16_t>, 4> kShortFields{{
    {0x13, &Properties::server_keep_alive},
    {0x21, &Properties::receive_maximum},
    {0x22, &Properties::topic_alias_maximum},
    {0x23, &Properties::topic_alias},
}};
constexpr std::array<Field<uint32_t>, 4> kIntFields{{
    {0x02, &Properties::message_expiry_interval},
    {0x11, &Properties::session_expiry_interval},
    {0x18, &Properties::will_delay_interval},
    {0x27, &Properties::maximum_packet_size},
}};
constexpr std::array<Field<std::string>, 9> kStringFields{{
    {0x03, &Properties::content_type},
    {0x08, &Properties::response_topic},
    {0x09, &Properties::correlation_data},
    {0x12, &Properties::assigned_client_identifier},
    {0x15, &Properties::authentication_method},
    {0x16, &Properties::authentication_data},
    {0x1A, &Properties::response_information},
    {0x1C, &Properties::server_reference},
    {0x1F, &Properties::reason_string},
}};
constexpr uint8_t kSubscriptionIdentifier = 0x0B;
constexpr uint8_t kUserProperty = 0x26;
constexpr uint8_t kEnd = 0x00;

void put_value(std::string& out, uint8_t value) { put_u8(out, value); }
void put_value(std::string& out, uint16_t value) { put_u16(out, value); }
void put_value(std::string& out, uint32_t value) { put_u32(out, value); }
void put_value(std::string& out, const std::string& value) { put_bytes(out, value); }

void get_value(Reader& reader, uint8_t& value) { value = reader.u8(); }
void get_value(Reader& reader, uint16_t& value) { value = reader.u16(); }
void get_value(Reader& reader, uint32_t& value) { value = reader.u32(); }
void get_value(Reader& reader, std::string& value) { value = reader.string(); }

template <typename T, size_t N>
void encode_fields(const std::array<Field<T>, N>& fields, const Properties& properties, std::string& out) {
  for (const Field<T>& field : fields) {
    const std::optional<T>& value = properties.*field.member;
    if (!value) continue;
    put_u8(out, field.id);
    put_value(out, *value);
  }
}

// True when `id` belongs to this table (and the value was read).
template <typename T, size_t N>
bool decode_field(const std::array<Field<T>, N>& fields, uint8_t id, Reader& reader, Properties& out) {
  for (const Field<T>& field : fields) {
    if (field.id != id) continue;
    T value{};
    get_value(reader, value);
    out.*field.member = std::move(value);
    return true;
  }
  return false;
}

bool decode_repeated(uint8_t id, Reader& reader, Properties& out) {
  if (id == kSubscriptionIdentifier) {
    out.subscription_identifiers.push_back(reader.varint32());
    return true;
  }
  if (id == kUserProperty) {
    std::string key = reader.string();
    out.user_properties.emplace_back(std::move(key), reader.string());
    return true;
  }
  return false;
}

bool decode_one(uint8_t id, Reader& reader, Properties& out) {
  return decode_field(kByteFields, id, reader, out) || decode_field(kShortFields, id, reader, out) ||
         decode_field(kIntFields, id, reader, out) || decode_field(kStringFields, id, reader, out) ||
         decode_repeated(id, reader, out);
}

}  // namespace

void encode_properties(const Properties& properties, std::string& out) {
  encode_fields(kByteFields, properties, out);
  encode_fields(kShortFields, properties, out);
  encode_fields(kIntFields, properties, out);
  encode_fields(kStringFields, properties, out);
  for (uint32_t identifier : properties.subscription_identifiers) {
    put_u8(out, kSubscriptionIdentifier);
    put_varint(out, identifier);
  }
  for (const auto& [key, value] : properties.user_properties) {
    put_u8(out, kUserProperty);
    put_bytes(out, key);
    put_bytes(out, value);
  }
  put_u8(out, kEnd);
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

// Reading and writing MQTT 5 property blocks (v5 section 2.2.2). Which
// property may appear where, and how often, is one table in properties.cpp,
// used by both directions: the decoder rejects what the table forbids and the
// encoder leaves it out. The map from property identifier to Properties
// member is public (for_each_property_field) so that other encodings of
// Properties, such as the store's records, use the same single map.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "mqtt/packet.h"
#include "mqtt/wire.h"

namespace stellwerk::mqtt::wire {

// Where a property block sits: in a packet of some type, or the Will
// Properties inside CONNECT.
struct PropertyScope {
  uint8_t bit;  // 0 for Will Properties, else the packet type number
};
inline constexpr PropertyScope kWillScope{0};
inline constexpr PropertyScope scope_of(PacketType type) {
  return PropertyScope{static_cast<uint8_t>(type)};
}

// A property that occurs at most once in a block, and the Properties member
// that holds it. The member's value type is the wire type: uint8_t for a
// Byte, uint16_t and uint32_t for Two and Four Byte Integers, std::string for
// both UTF-8 Encoded Strings and Binary Data.
template <typename T>
struct PropertyField {
  uint8_t id;
  std::optional<T> Properties::*member;
};

inline constexpr PropertyField<uint8_t> kByteProperties[] = {
    {0x01, &Properties::payload_format_indicator},
    {0x17, &Properties::request_problem_information},
    {0x19, &Properties::request_response_information},
    {0x24, &Properties::maximum_qos},
    {0x25, &Properties::retain_available},
    {0x28, &Properties::wildcard_subscription_available},
    {0x29, &Properties::subscription_identifier_available},
    {0x2A, &Properties::shared_subscription_available},
};
inline constexpr PropertyField<uint16_t> kTwoByteProperties[] = {
    {0x13, &Properties::server_keep_alive},
    {0x21, &Properties::receive_maximum},
    {0x22, &Properties::topic_alias_maximum},
    {0x23, &Properties::topic_alias},
};
inline constexpr PropertyField<uint32_t> kFourByteProperties[] = {
    {0x02, &Properties::message_expiry_interval},
    {0x11, &Properties::session_expiry_interval},
    {0x18, &Properties::will_delay_interval},
    {0x27, &Properties::maximum_packet_size},
};
inline constexpr PropertyField<std::string> kStringProperties[] = {
    {0x03, &Properties::content_type},
    {0x08, &Properties::response_topic},
    {0x09, &Properties::correlation_data},
    {0x12, &Properties::assigned_client_identifier},
    {0x15, &Properties::authentication_method},
    {0x16, &Properties::authentication_data},
    {0x1A, &Properties::response_information},
    {0x1C, &Properties::server_reference},
    {0x1F, &Properties::reason_string},
};

// The two properties that may repeat; they live in vectors
// (Properties::subscription_identifiers, Properties::user_properties), so
// for_each_property_field does not visit them.
inline constexpr uint8_t kSubscriptionIdentifierId = 0x0B;
inline constexpr uint8_t kUserPropertyId = 0x26;

// Calls visit(field) with each PropertyField: the Byte properties, then Two
// Byte, Four Byte and string ones, each group in the order listed above.
// Callers that write the fields out rely on this order staying fixed.
template <typename Visitor>
constexpr void for_each_property_field(Visitor&& visit) {
  for (const auto& field : kByteProperties) visit(field);
  for (const auto& field : kTwoByteProperties) visit(field);
  for (const auto& field : kFourByteProperties) visit(field);
  for (const auto& field : kStringProperties) visit(field);
}

// Reads Property Length and the properties after it into `out`.
void read_properties(Reader& reader, PropertyScope scope, Properties& out);

// Bytes of the properties `scope` allows, without the Property Length.
size_t properties_content_size(const Properties& properties, PropertyScope scope);

// Writes Property Length and the properties `scope` allows.
void write_properties(const Properties& properties, PropertyScope scope, SizeSink& sink);
void write_properties(const Properties& properties, PropertyScope scope, WriteSink& sink);

}  // namespace stellwerk::mqtt::wire

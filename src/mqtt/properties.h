// Internal to the mqtt module: reading and writing MQTT 5 property blocks
// (v5 section 2.2.2). Which property may appear where, and how often, is one
// table in properties.cpp, used by both directions: the decoder rejects what
// the table forbids and the encoder leaves it out.
#pragma once

#include <cstdint>

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

// Reads Property Length and the properties after it into `out`.
void read_properties(Reader& reader, PropertyScope scope, Properties& out);

// Bytes of the properties `scope` allows, without the Property Length.
size_t properties_content_size(const Properties& properties, PropertyScope scope);

// Writes Property Length and the properties `scope` allows.
void write_properties(const Properties& properties, PropertyScope scope, SizeSink& sink);
void write_properties(const Properties& properties, PropertyScope scope, WriteSink& sink);

}  // namespace stellwerk::mqtt::wire

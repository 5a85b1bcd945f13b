// Names and kinds of packets. The variant order in Packet does not follow the
// wire numbering (the four acks share one struct), so the type is read from the
// alternative, and from Ack::type for the acks.
#include "mqtt/packet.h"

#include <type_traits>

namespace stellwerk::mqtt {
namespace {

template <typename T>
PacketType fixed_type_of() {
  if constexpr (std::is_same_v<T, Connect>) return PacketType::connect;
  if constexpr (std::is_same_v<T, Connack>) return PacketType::connack;
  if constexpr (std::is_same_v<T, Publish>) return PacketType::publish;
  if constexpr (std::is_same_v<T, Subscribe>) return PacketType::subscribe;
  if constexpr (std::is_same_v<T, Suback>) return PacketType::suback;
  if constexpr (std::is_same_v<T, Unsubscribe>) return PacketType::unsubscribe;
  if constexpr (std::is_same_v<T, Unsuback>) return PacketType::unsuback;
  if constexpr (std::is_same_v<T, Pingreq>) return PacketType::pingreq;
  if constexpr (std::is_same_v<T, Pingresp>) return PacketType::pingresp;
  if constexpr (std::is_same_v<T, Disconnect>) return PacketType::disconnect;
  if constexpr (std::is_same_v<T, Auth>) return PacketType::auth;
  return PacketType::puback;
}

}  // namespace

PacketType packet_type(const Packet& packet) {
  return std::visit(
      [](const auto& value) {
        using T = std::decay_t<decltype(value)>;
        if constexpr (std::is_same_v<T, Ack>) {
          return value.type;
        } else {
          return fixed_type_of<T>();
        }
      },
      packet);
}

const char* packet_type_name(PacketType type) {
  switch (type) {
    case PacketType::connect: return "CONNECT";
    case PacketType::connack: return "CONNACK";
    case PacketType::publish: return "PUBLISH";
    case PacketType::puback: return "PUBACK";
    case PacketType::pubrec: return "PUBREC";
    case PacketType::pubrel: return "PUBREL";
    case PacketType::pubcomp: return "PUBCOMP";
    case PacketType::subscribe: return "SUBSCRIBE";
    case PacketType::suback: return "SUBACK";
    case PacketType::unsubscribe: return "UNSUBSCRIBE";
    case PacketType::unsuback: return "UNSUBACK";
    case PacketType::pingreq: return "PINGREQ";
    case PacketType::pingresp: return "PINGRESP";
    case PacketType::disconnect: return "DISCONNECT";
    case PacketType::auth: return "AUTH";
  }
  return "UNKNOWN";
}

}  // namespace stellwerk::mqtt

// Packet identifiers for packets the client sends (PUBLISH QoS 1/2, SUBSCRIBE,
// UNSUBSCRIBE). An id stays taken until the flow that uses it completes, so
// the allocator never hands out an id the server may still be answering
// [MQTT-2.2.1-3]. Ids are handed out round-robin, which keeps a just-freed id
// from being reused at once and makes traces easier to follow.
#pragma once

#include <bitset>
#include <cstdint>
#include <optional>

namespace stellwerk::client {

class PacketIds {
 public:
  // The next free id (1..65535), now taken; nullopt when all 65,535 are taken.
  std::optional<uint16_t> allocate();
  void release(uint16_t id);
  bool in_use(uint16_t id) const { return taken_.test(id); }
  size_t count() const { return count_; }
  void clear();

 private:
  std::bitset<65536> taken_;  // index 0 is never used: 0 is not a valid id
  uint16_t last_ = 0;
  size_t count_ = 0;
};

}  // namespace stellwerk::client

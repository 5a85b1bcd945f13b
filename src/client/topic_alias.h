// MQTT 5 topic aliases (v5 section 3.3.2.3.4), one table per direction.
//
// Outgoing: the server's CONNACK says how many aliases it accepts (Topic Alias
// Maximum; absent or 0 = none [MQTT-3.2.2-18]). The first PUBLISH to a topic carries the
// topic and a new alias; later ones carry the alias and an empty topic. When
// the table is full, further topics are sent in full: replacing an alias
// would save bytes only for traffic patterns the CLI tools never produce.
//
// Incoming: the client's CONNECT says how many aliases the server may use; an
// alias of 0 or above that maximum, or an empty topic with an unknown alias,
// is a protocol error the client answers with DISCONNECT 0x94 / 0x82.
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "base/result.h"
#include "mqtt/packet.h"

namespace stellwerk::client {

class OutgoingTopicAliases {
 public:
  // Forgets every alias; aliases live only as long as one network connection.
  void reset(uint16_t maximum);
  // Rewrites `publish` to use an alias where one exists or can be made.
  void apply(mqtt::Publish& publish);
  size_t size() const { return aliases_.size(); }

 private:
  uint16_t maximum_ = 0;
  std::unordered_map<std::string, uint16_t> aliases_;
};

class IncomingTopicAliases {
 public:
  void reset(uint16_t maximum);
  // Fills in the topic of a PUBLISH that uses an alias, and records new
  // aliases. On failure returns the reason code to disconnect with.
  Status<mqtt::ReasonCode> resolve(mqtt::Publish& publish);

 private:
  std::vector<std::string> topics_;  // index = alias; empty = not set
};

}  // namespace stellwerk::client

// The PUBLISH of the message being routed, encoded once and copied for every
// subscriber that needs nothing of its own (DESIGN.md, principle 3): only the
// first byte (DUP, QoS, RETAIN) and the packet id differ between them, and
// those are patched into the copy. A delivery that carries subscription ids,
// a counted-down expiry or a topic alias takes the full encoder instead.
//
// The cache lives only while one message is routed, so it costs no memory per
// stored message.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "mqtt/packet.h"
#include "session/message.h"

namespace stellwerk::broker {

class PublishCache {
 public:
  // Routing of `message` starts; forms of any earlier message are dropped.
  void begin(const session::Message* message);
  void end() { begin(nullptr); }

  // Appends to `out` the PUBLISH of `message` for a v5 or a 3.1.x client,
  // with these flags and packet id (0 = none, QoS 0). False when `message` is
  // not the one being routed: the caller encodes it itself.
  bool append(const session::Message& message, bool v5, bool dup, mqtt::QoS qos, bool retain,
              uint16_t packet_id, std::string& out);

 private:
  struct Form {
    std::string bytes;
    size_t packet_id_offset = 0;  // where the packet id sits (forms with one)
    bool made = false;
  };
  const Form& form_for(const session::Message& message, bool v5, bool with_packet_id);

  const session::Message* message_ = nullptr;
  Form forms_[2][2];  // [v5][with packet id]
};

}  // namespace stellwerk::broker

// The answer to a connection that arrives when its listener is already at
// max_connections. Closing the socket at once (what mosquitto does) leaves the
// client guessing; instead the broker reads the CONNECT and answers in the
// client's own protocol version: CONNACK 0x97 "Quota exceeded" for MQTT 5,
// return code 3 "Server unavailable" for 3.1 and 3.1.1. Pure: bytes in, bytes
// out; the server owns the socket, the timeout and the bound on how many such
// answers may be pending.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

namespace stellwerk::server {

// A CONNECT larger than this is not worth reading for a refusal.
inline constexpr size_t kLargestRefusedConnect = 4096;

struct OverLimitAnswer {
  enum class Kind { need_more, connack, give_up };
  Kind kind = Kind::need_more;
  std::string bytes;  // the CONNACK, for Kind::connack
  std::string why;    // for the log line, for Kind::give_up
};

// `received`: every byte the connection sent so far.
OverLimitAnswer answer_over_limit(std::span<const uint8_t> received);

}  // namespace stellwerk::server

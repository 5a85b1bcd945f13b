// How `stellwerk sub` prints a message, compatible with mosquitto_sub:
//   default  the payload, then a newline; nothing at all for an empty payload
//   -v       "topic payload", or "topic (null)" for an empty payload
//   -F fmt   a format string; -N drops the newline after each message
// Format sequences (a subset of mosquitto_sub's, without field widths):
//   %t topic  %p payload  %q QoS  %r retain  %l payload length  %m packet id
//   %x / %X payload in lower / upper case hex  %I ISO-8601 local time
//   %U Unix time with nanoseconds  %%  a literal %
//   v5 properties: %A topic alias  %C content type  %D correlation data
//   %E message expiry  %F payload format indicator  %P user properties
//   (key:value, space separated)  %R response topic  %S subscription ids
//   @X strftime's %X, @N nanoseconds, @@ a literal @
//   \n \r \t \v \a \e \0 \\ escapes
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "client/error.h"
#include "mqtt/packet.h"

namespace stellwerk::client {

struct OutputOptions {
  std::string format;  // empty = no -F
  bool verbose = false;
  bool end_of_line = true;
};

// Rejects unknown sequences up front, so a typo fails before connecting.
ClientStatus check_format(std::string_view format);

// The bytes to write for one message (may be empty). `received_at` feeds
// the time sequences; it is a parameter so tests can fix it.
std::string render_message(const mqtt::Publish& message, const OutputOptions& options,
                           std::chrono::system_clock::time_point received_at);

}  // namespace stellwerk::client

// The HTTP/1.1 side of a WebSocket server (RFC 6455 section 4): reading the
// client's upgrade request and writing the answer, either 101 Switching
// Protocols or an HTTP error that says what was wrong.
#pragma once

#include <string>
#include <string_view>

#include "net/transport.h"

namespace stellwerk::net {

struct UpgradeAnswer {
  bool accepted = false;
  std::string response;     // the full HTTP response to send
  std::string problem;      // why it was refused, for the log
  std::string subprotocol;  // answered, "" for none
  std::string path;         // the request target
};

// `head` is the request up to, not including, the blank line that ends it.
UpgradeAnswer answer_upgrade(std::string_view head, const WebSocketSettings& settings);

// Sec-WebSocket-Accept for a Sec-WebSocket-Key: base64(SHA-1(key + GUID)).
std::string websocket_accept_key(std::string_view key);

}  // namespace stellwerk::net

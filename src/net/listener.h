// Opening listening TCP sockets.
//
// The sockets are made here, before any worker runs, and then registered with
// every worker through Worker::add_listener; the caller owns the fds and
// closes them (close_listeners) after the workers have stopped.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/result.h"

namespace stellwerk::net {

struct ListenSocket {
  int fd = -1;
  uint16_t port = 0;    // the bound port, also when 0 was asked for
  std::string address;  // the bound host: "0.0.0.0", "::", "127.0.0.1", ...
};

// Opens non-blocking listening sockets (SO_REUSEADDR, TCP_NODELAY for the
// sockets they accept, backlog 4096; IPv6 sockets with IPV6_V6ONLY).
// `address` is a numeric address ("127.0.0.1", "::1" or "[::1]") or a host
// name, which gives one socket per address it resolves to. "" means all
// interfaces: 0.0.0.0 and, where the host has IPv6, also [::] as a second
// socket. Port 0 picks a free port, the same one for every socket returned.
// The error names the address and the system's reason.
Result<std::vector<ListenSocket>, std::string> open_tcp_listener(const std::string& address, uint16_t port);

// Closes every fd and empties the vector.
void close_listeners(std::vector<ListenSocket>& sockets);

}  // namespace stellwerk::net

// Socket addresses as text, for logs, PeerAddress and ListenSocket.
#pragma once

#include <sys/socket.h>

#include <cstdint>
#include <string>

namespace stellwerk::net {

// "127.0.0.1" or "::1"; "?" for a family other than IPv4/IPv6.
std::string format_host(const sockaddr* address);

// "127.0.0.1:5555" or "[::1]:5555".
std::string format_endpoint(const sockaddr* address);

uint16_t port_of(const sockaddr* address);

}  // namespace stellwerk::net

// The socket calls of the generator: resolving the broker's address once,
// and starting a non-blocking TCP connection from an optional local address.
#pragma once

#include <sys/socket.h>

#include <cstdint>
#include <optional>
#include <string>

#include "base/result.h"

namespace stellwerk::bench {

struct Endpoint {
  sockaddr_storage address{};
  socklen_t length = 0;
};

// Resolves `host` (a name or an address) and `port`; the first IPv4 or IPv6
// answer is used.
Result<Endpoint, std::string> resolve_endpoint(const std::string& host, uint16_t port);

// A local address to bind before connecting, port left to the kernel.
Result<Endpoint, std::string> local_endpoint(const std::string& address);

// Starts connecting to `target` from `source` (if given): returns the
// non-blocking socket, whose first EPOLLOUT says the connect finished
// (connect_result then tells how), or an errno value. `no_delay` sets
// TCP_NODELAY, which only a client that sends while earlier data is still
// unacknowledged needs (a publisher); skipping it saves a system call.
Result<int, int> start_connect(const Endpoint& target, const Endpoint* source, bool no_delay);

// 0 when the connect that `fd` was doing succeeded, else its errno value.
int connect_result(int fd);

}  // namespace stellwerk::bench

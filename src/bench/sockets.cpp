// Non-blocking connects from chosen local addresses (see sockets.h).
#include "bench/sockets.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace stellwerk::bench {

Result<Endpoint, std::string> resolve_endpoint(const std::string& host, uint16_t port) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* list = nullptr;
  const std::string service = std::to_string(port);
  const int error = ::getaddrinfo(host.c_str(), service.c_str(), &hints, &list);
  if (error != 0) return fail(std::string(gai_strerror(error)));
  Endpoint endpoint;
  std::memcpy(&endpoint.address, list->ai_addr, list->ai_addrlen);
  endpoint.length = list->ai_addrlen;
  ::freeaddrinfo(list);
  return endpoint;
}

Result<Endpoint, std::string> local_endpoint(const std::string& address) {
  Endpoint endpoint;
  auto* v4 = reinterpret_cast<sockaddr_in*>(&endpoint.address);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&endpoint.address);
  if (inet_pton(AF_INET, address.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    endpoint.length = sizeof(sockaddr_in);
  } else if (inet_pton(AF_INET6, address.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    endpoint.length = sizeof(sockaddr_in6);
  } else {
    return fail("not an IP address: " + address);
  }
  return endpoint;
}

Result<int, int> start_connect(const Endpoint& target, const Endpoint* source, bool no_delay) {
  const int fd = ::socket(target.address.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return fail(errno);
  const int on = 1;
  if (no_delay) ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
  if (source != nullptr) {
    // Leave the port to connect(), which may then reuse a port for other
    // destinations: without this, bind() would reserve a port per socket.
    ::setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &on, sizeof on);
    if (::bind(fd, reinterpret_cast<const sockaddr*>(&source->address), source->length) != 0) {
      const int error = errno;
      ::close(fd);
      return fail(error);
    }
  }
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&target.address), target.length) != 0 &&
      errno != EINPROGRESS) {
    const int error = errno;
    ::close(fd);
    return fail(error);
  }
  return fd;
}

int connect_result(int fd) {
  int error = 0;
  socklen_t length = sizeof error;
  if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length) != 0) return errno;
  return error;
}

}  // namespace stellwerk::bench

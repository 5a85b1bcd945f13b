// Formatting of IPv4/IPv6 socket addresses.
#include "net/address.h"

#include <arpa/inet.h>
#include <netinet/in.h>

namespace stellwerk::net {

std::string format_host(const sockaddr* address) {
  char text[INET6_ADDRSTRLEN] = "?";
  if (address->sa_family == AF_INET) {
    const auto* v4 = reinterpret_cast<const sockaddr_in*>(address);
    ::inet_ntop(AF_INET, &v4->sin_addr, text, sizeof text);
  } else if (address->sa_family == AF_INET6) {
    const auto* v6 = reinterpret_cast<const sockaddr_in6*>(address);
    ::inet_ntop(AF_INET6, &v6->sin6_addr, text, sizeof text);
  }
  return text;
}

std::string format_endpoint(const sockaddr* address) {
  std::string host = format_host(address);
  std::string port = std::to_string(port_of(address));
  if (address->sa_family == AF_INET6) return "[" + host + "]:" + port;
  return host + ":" + port;
}

uint16_t port_of(const sockaddr* address) {
  if (address->sa_family == AF_INET) return ntohs(reinterpret_cast<const sockaddr_in*>(address)->sin_port);
  if (address->sa_family == AF_INET6) return ntohs(reinterpret_cast<const sockaddr_in6*>(address)->sin6_port);
  return 0;
}

}  // namespace stellwerk::net

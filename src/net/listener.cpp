// open_tcp_listener: resolve, then socket/bind/listen per address.
//
// With port 0 and several addresses the first socket picks the port and the
// others must bind the same one; if another process holds that port on the
// second family, everything is closed and retried with a fresh port.
#include "net/listener.h"

#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

#include "net/address.h"

namespace stellwerk::net {
namespace {

constexpr int kBacklog = 4096;
constexpr int kEphemeralAttempts = 8;

struct Candidate {
  sockaddr_storage address{};
  socklen_t length = 0;
  bool optional = false;  // the implicit [::] of "": skipped where IPv6 is off
};

struct OpenError {
  int code = 0;
  std::string text;
};

const sockaddr* as_sockaddr(const sockaddr_storage& s) { return reinterpret_cast<const sockaddr*>(&s); }

OpenError open_error(const char* step, const Candidate& c, int code) {
  return OpenError{code, fmt::format("{} {}:{}: {}", step, format_host(as_sockaddr(c.address)),
                                     port_of(as_sockaddr(c.address)), std::strerror(code))};
}

Candidate any_address(int family) {
  Candidate c;
  c.address.ss_family = static_cast<sa_family_t>(family);
  c.length = family == AF_INET ? sizeof(sockaddr_in) : sizeof(sockaddr_in6);
  c.optional = family == AF_INET6;
  return c;  // zeroed: INADDR_ANY / in6addr_any
}

void set_port(sockaddr_storage& s, uint16_t port) {
  if (s.ss_family == AF_INET) reinterpret_cast<sockaddr_in*>(&s)->sin_port = htons(port);
  if (s.ss_family == AF_INET6) reinterpret_cast<sockaddr_in6*>(&s)->sin6_port = htons(port);
}

std::string strip_brackets(const std::string& address) {
  if (address.size() >= 2 && address.front() == '[' && address.back() == ']') {
    return address.substr(1, address.size() - 2);
  }
  return address;
}

bool already_listed(const std::vector<Candidate>& list, const addrinfo* ai) {
  for (const Candidate& c : list) {
    if (c.length == ai->ai_addrlen && std::memcmp(&c.address, ai->ai_addr, ai->ai_addrlen) == 0) return true;
  }
  return false;
}

Result<std::vector<Candidate>, std::string> resolve(const std::string& address) {
  if (address.empty()) return std::vector<Candidate>{any_address(AF_INET), any_address(AF_INET6)};
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE;
  addrinfo* found = nullptr;
  std::string host = strip_brackets(address);
  if (int rc = ::getaddrinfo(host.c_str(), nullptr, &hints, &found); rc != 0) {
    return fail(fmt::format("cannot resolve listen address '{}': {}", address, ::gai_strerror(rc)));
  }
  std::vector<Candidate> list;
  for (const addrinfo* ai = found; ai != nullptr; ai = ai->ai_next) {
    bool inet = ai->ai_family == AF_INET || ai->ai_family == AF_INET6;
    if (!inet || already_listed(list, ai)) continue;
    Candidate c;
    std::memcpy(&c.address, ai->ai_addr, ai->ai_addrlen);
    c.length = ai->ai_addrlen;
    list.push_back(c);
  }
  ::freeaddrinfo(found);
  if (list.empty()) return fail(fmt::format("listen address '{}' has no IPv4/IPv6 address", address));
  return list;
}

// Returns 0, or the errno of the step that failed (named in `step`).
int bind_and_listen(int fd, const Candidate& c, const char*& step) {
  int on = 1;
  step = "setsockopt";
  if (::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on) != 0) return errno;
  bool v6 = c.address.ss_family == AF_INET6;
  if (v6 && ::setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof on) != 0) return errno;
  // Accepted sockets inherit TCP_NODELAY from the listener on Linux, which
  // saves a system call per connection (Worker::add_listener checks it).
  // Where it is refused, the worker sets it on each accepted socket instead.
  (void)::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
  step = "bind";
  if (::bind(fd, as_sockaddr(c.address), c.length) != 0) return errno;
  step = "listen";
  if (::listen(fd, kBacklog) != 0) return errno;
  return 0;
}

Result<ListenSocket, OpenError> open_one(Candidate c, uint16_t port) {
  set_port(c.address, port);
  int fd = ::socket(c.address.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return fail(open_error("socket", c, errno));
  const char* step = "";
  if (int code = bind_and_listen(fd, c, step); code != 0) {
    ::close(fd);
    return fail(open_error(step, c, code));
  }
  sockaddr_storage bound{};
  socklen_t bound_length = sizeof bound;
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &bound_length) != 0) {
    int code = errno;
    ::close(fd);
    return fail(open_error("getsockname", c, code));
  }
  return ListenSocket{fd, port_of(as_sockaddr(bound)), format_host(as_sockaddr(bound))};
}

bool skippable(const Candidate& c, int code) {
  return c.optional && (code == EAFNOSUPPORT || code == EADDRNOTAVAIL || code == EPROTONOSUPPORT);
}

Result<std::vector<ListenSocket>, OpenError> open_all(const std::vector<Candidate>& candidates,
                                                      uint16_t port) {
  std::vector<ListenSocket> opened;
  for (const Candidate& c : candidates) {
    Result<ListenSocket, OpenError> one = open_one(c, port);
    if (!one.ok()) {
      if (skippable(c, one.error().code)) continue;
      close_listeners(opened);
      return fail(one.error());
    }
    port = one->port;  // with port 0, the first socket chooses for all
    opened.push_back(std::move(one.value()));
  }
  return opened;
}

}  // namespace

Result<std::vector<ListenSocket>, std::string> open_tcp_listener(const std::string& address, uint16_t port) {
  Result<std::vector<Candidate>, std::string> candidates = resolve(address);
  if (!candidates.ok()) return fail(candidates.error());
  for (int attempt = 1;; ++attempt) {
    Result<std::vector<ListenSocket>, OpenError> opened = open_all(*candidates, port);
    if (opened.ok()) return std::move(opened.value());
    bool retry = port == 0 && opened.error().code == EADDRINUSE && attempt < kEphemeralAttempts;
    if (!retry) return fail(opened.error().text);
  }
}

void close_listeners(std::vector<ListenSocket>& sockets) {
  for (const ListenSocket& s : sockets) ::close(s.fd);
  sockets.clear();
}

}  // namespace stellwerk::net

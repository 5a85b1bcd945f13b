// TCP socket with deadlines (see tcp_socket.h). Connecting is done without
// blocking so that an unreachable address costs at most the time left.
#include "client/tcp_socket.h"

#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <memory>
#include <utility>

namespace stellwerk::client {
namespace {

// Milliseconds until `deadline` for poll(), rounded up so that a wait never
// ends just before its deadline and spins.
int poll_timeout(TimePoint deadline) {
  const auto left = deadline - Clock::now();
  if (left <= Duration::zero()) return 0;
  const auto ms = std::chrono::ceil<milliseconds>(left).count();
  return static_cast<int>(std::min<int64_t>(ms, 60'000));
}

// poll() until an event on one of `entries` or the deadline; EINTR retries.
// Returns the number of ready entries (0 on timeout) or -1 with errno set.
int poll_until(std::span<pollfd> entries, TimePoint deadline) {
  while (true) {
    const int ready = ::poll(entries.data(), entries.size(), poll_timeout(deadline));
    if (ready > 0) return ready;
    if (ready < 0 && errno != EINTR) return -1;
    if (ready == 0 && Clock::now() >= deadline) return 0;
  }
}

struct AddrInfoDeleter {
  void operator()(addrinfo* list) const { freeaddrinfo(list); }
};
using AddrInfoList = std::unique_ptr<addrinfo, AddrInfoDeleter>;

// Connects one address; returns the descriptor, or -1 with `why` filled in.
int connect_one(const addrinfo& address, TimePoint deadline, std::string& why) {
  const int fd = ::socket(address.ai_family, address.ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
                          address.ai_protocol);
  if (fd < 0) {
    why = std::strerror(errno);
    return -1;
  }
  int error = 0;
  if (::connect(fd, address.ai_addr, address.ai_addrlen) != 0) {
    error = errno;
    if (error == EINPROGRESS) {
      pollfd entry{fd, POLLOUT, 0};
      const int ready = poll_until(std::span(&entry, 1), deadline);
      socklen_t length = sizeof(error);
      if (ready == 0) {
        error = ETIMEDOUT;
      } else if (ready < 0 || ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length) != 0) {
        error = errno;
      }
    }
  }
  if (error != 0) {
    why = std::strerror(error);
    ::close(fd);
    return -1;
  }
  const int on = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
  return fd;
}

}  // namespace

TcpSocket::~TcpSocket() { close(); }

TcpSocket::TcpSocket(TcpSocket&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}

TcpSocket& TcpSocket::operator=(TcpSocket&& other) noexcept {
  if (this != &other) {
    close();
    fd_ = std::exchange(other.fd_, -1);
  }
  return *this;
}

void TcpSocket::close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

ClientResult<TcpSocket> TcpSocket::connect(const std::string& host, uint16_t port,
                                           TimePoint deadline) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  const std::string service = std::to_string(port);
  if (const int rc = ::getaddrinfo(host.c_str(), service.c_str(), &hints, &found); rc != 0) {
    return client_error(ErrorKind::network,
                        fmt::format("cannot resolve host '{}': {}", host, gai_strerror(rc)));
  }
  AddrInfoList addresses(found);
  std::string why = "no address";
  for (const addrinfo* address = addresses.get(); address; address = address->ai_next) {
    const int fd = connect_one(*address, deadline, why);
    if (fd >= 0) return TcpSocket(fd);
  }
  return client_error(ErrorKind::network,
                      fmt::format("cannot connect to {}:{}: {}", host, port, why));
}

ClientResult<Readiness> TcpSocket::wait(bool want_write, TimePoint deadline, int watch_fd) const {
  std::array<pollfd, 2> entries{};
  entries[0] = pollfd{fd_, static_cast<short>(POLLIN | (want_write ? POLLOUT : 0)), 0};
  entries[1] = pollfd{watch_fd, POLLIN, 0};  // poll() skips a negative descriptor
  if (poll_until(entries, deadline) < 0) {
    return client_error(ErrorKind::network, fmt::format("poll failed: {}", std::strerror(errno)));
  }
  // Errors and hang-ups show up as readable: the next read reports them.
  constexpr short kReadable = POLLIN | POLLERR | POLLHUP;
  return Readiness{(entries[0].revents & kReadable) != 0, (entries[0].revents & POLLOUT) != 0,
                   (entries[1].revents & kReadable) != 0};
}

ClientResult<size_t> TcpSocket::read_some(std::span<uint8_t> buffer) {
  const ssize_t count = ::recv(fd_, buffer.data(), buffer.size(), 0);
  if (count > 0) return static_cast<size_t>(count);
  if (count == 0) return client_error(ErrorKind::closed, "connection closed by the server");
  if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return size_t{0};
  return client_error(ErrorKind::network, fmt::format("receive failed: {}", std::strerror(errno)));
}

ClientResult<size_t> TcpSocket::write_some(std::string_view bytes) {
  const ssize_t count = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
  if (count >= 0) return static_cast<size_t>(count);
  if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return size_t{0};
  return client_error(ErrorKind::network, fmt::format("send failed: {}", std::strerror(errno)));
}

}  // namespace stellwerk::client

// A TCP connection for the blocking client: non-blocking file descriptor,
// waits done with poll() against a deadline, so every call returns by a time
// the caller chose. IPv4 and IPv6: every address a host name resolves to is
// tried in turn until one accepts.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "base/clock.h"
#include "client/error.h"

namespace stellwerk::client {

struct Readiness {
  bool readable = false;
  bool writable = false;
  bool watched = false;  // the extra descriptor passed to wait() is readable
};

class TcpSocket {
 public:
  TcpSocket() = default;
  ~TcpSocket();
  TcpSocket(TcpSocket&& other) noexcept;
  TcpSocket& operator=(TcpSocket&& other) noexcept;
  TcpSocket(const TcpSocket&) = delete;
  TcpSocket& operator=(const TcpSocket&) = delete;

  // Resolves `host` and connects to the first address that accepts before
  // `deadline`. Nagle is off: MQTT packets are small and latency matters.
  static ClientResult<TcpSocket> connect(const std::string& host, uint16_t port,
                                         TimePoint deadline);

  // Waits until the socket is readable (or writable too, when `want_write`),
  // `watch_fd` (if not -1) is readable, or `deadline` passes (all flags
  // false then).
  ClientResult<Readiness> wait(bool want_write, TimePoint deadline, int watch_fd = -1) const;
  // Reads what is there; 0 means nothing yet. The peer closing is an error.
  ClientResult<size_t> read_some(std::span<uint8_t> buffer);
  // Writes what the kernel takes now; 0 means the send buffer is full.
  ClientResult<size_t> write_some(std::string_view bytes);
  void close();
  bool is_open() const { return fd_ >= 0; }

 private:
  explicit TcpSocket(int fd) : fd_(fd) {}
  int fd_ = -1;
};

}  // namespace stellwerk::client

// The worker's record of one connection. Private to net: the handler only
// ever sees the ConnectionId.
#pragma once

#include <sys/uio.h>

#include <cstddef>
#include <cstdint>
#include <memory>

#include "net/connection_handler.h"
#include "net/output_queue.h"
#include "net/timer_queue.h"
#include "net/transport_chain.h"

namespace stellwerk::net {

// epoll_event.data.u64 holds a ConnectionId (always below 2^63) or a tag
// with the top bit set: the task queue's eventfd, or listener slot + 1.
inline constexpr uint64_t kSpecialTagBit = uint64_t{1} << 63;
inline constexpr uint64_t kWakeTag = kSpecialTagBit;
inline constexpr uint64_t listener_epoll_tag(size_t slot) { return kSpecialTagBit | (slot + 1); }

inline size_t total_length(const iovec* iov, int count) {
  size_t total = 0;
  for (int i = 0; i < count; ++i) total += iov[i].iov_len;
  return total;
}

enum class ConnectionState : uint8_t {
  open,     // the handler's: data is delivered, output accepted
  closing,  // close() was asked: flushing, then lingering for the peer's FIN
  dead,     // fd closed; waits in the graveyard until the turn ends
};

struct Connection {
  ConnectionId id = 0;
  int fd = -1;
  // The last read's length, to size this socket's slice of a batched read.
  uint32_t last_read_length = 0;
  // Wire bytes, ready for the socket.
  OutputQueue output;
  // PROXY/TLS/WebSocket layers; null on the plain TCP path.
  std::unique_ptr<TransportChain> transport;

  ConnectionState state = ConnectionState::open;
  bool read_paused = false;
  // Edge-triggered epoll reports readability once; this remembers that the
  // socket may still hold data (set by an event, cleared by EAGAIN or a short
  // read) so pausing, budgets and close() can come back to it later.
  bool maybe_readable = false;
  bool peer_shut = false;  // EPOLLRDHUP/HUP seen: read on to EOF despite short reads
  bool peer_eof = false;   // read returned 0
  bool write_blocked = false;  // socket buffer full; waiting for the EPOLLOUT edge
  bool in_dirty_list = false;
  bool in_read_backlog = false;
  bool shut_down_write = false;  // close(): output flushed and FIN sent
  uint64_t last_read_turn = 0;
  TimerId close_deadline = 0;
};

}  // namespace stellwerk::net

// The seam between the event loop and whatever speaks a protocol over it.
//
// net moves bytes and knows nothing about MQTT; the server implements
// ConnectionHandler and sees each connection only as an id. Every callback runs
// on the thread of the Worker that owns the connection, so a handler needs no
// locks for per-connection state as long as it keeps that state per worker.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "net/peer_info.h"

namespace stellwerk::net {

// Unique across all workers and never 0; an id comes back only after its
// slot has served 2^31 connections (net/worker.h, connection_slot()).
using ConnectionId = uint64_t;

class Worker;

class ConnectionHandler {
 public:
  virtual ~ConnectionHandler() = default;

  // A connection was accepted on the listener registered with `listener_tag`.
  virtual void on_open(Worker& w, ConnectionId id, int listener_tag, const PeerAddress& peer) = 0;

  // Bytes from the peer. `bytes` points into the worker's reusable read buffer:
  // it is valid only during this call, so keep a copy of what must outlive it.
  virtual void on_data(Worker& w, ConnectionId id, std::span<const uint8_t> bytes) = 0;

  // The peer closed, or a read/write error ended the connection. Not called
  // when the handler itself asked for close() or abort(). The id is already
  // gone when this runs: sends to it are ignored.
  virtual void on_close(Worker& w, ConnectionId id, std::string_view why) = 0;

  // Once per connection that has transports (TLS, WebSocket, PROXY), when
  // their handshakes are done and before the first on_data; see peer_info.h.
  // Not called for plain TCP, nor for a connection whose handshake failed
  // (that one gets on_close).
  virtual void on_peer_info(Worker& /*w*/, ConnectionId /*id*/, const PeerInfo& /*info*/) {}

  // After one batch of epoll events, due timers and posted tasks, just before
  // queued output is written: the place to flush per-turn batches.
  virtual void on_turn_end(Worker& /*w*/) {}
};

}  // namespace stellwerk::net

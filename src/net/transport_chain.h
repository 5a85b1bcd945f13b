// One connection's transports, stacked as its listener's TransportStack says
// (see transport.h for the design). Owned by the worker's Connection record;
// a connection on a listener without transports has no chain.
#pragma once

#include <memory>
#include <span>
#include <string>
#include <vector>

#include "net/timer_queue.h"
#include "net/transport.h"

namespace stellwerk::net {

// Two buffers that input bounces between on its way up the layers. One pair
// per worker: the application bytes handed to the handler live in one of them
// until the next connection's input is decoded.
struct TransportScratch {
  std::string a, b;
};

class TransportChain {
 public:
  TransportChain(std::shared_ptr<const TransportStack> stack, PeerAddress socket_peer);

  // Bytes from the socket. On return `app` views the application bytes for
  // the handler (in `in` itself when every layer is transparent, else in
  // `scratch`), and `wire` holds what must be written to the socket. An end
  // is returned after the bytes in front of it were decoded.
  TransportStatus on_input(std::span<const uint8_t> in, TransportScratch& scratch,
                           std::span<const uint8_t>& app, std::string& wire);

  bool established() const { return established_; }
  // True exactly once: on the first call after every layer became established.
  bool take_establishment();
  const PeerInfo& peer_info() const { return peer_info_; }
  // The peer for log lines: the PROXY header's address once known.
  const std::string& peer_text() const { return peer_info_.address.text; }

  // Application output is queued here and wrapped once per loop turn, so a
  // turn's packets become one WebSocket frame and one run of TLS records.
  void queue(std::string_view plain) { pending_.append(plain); }
  size_t queued_bytes() const { return pending_.size(); }
  // The queued output as wire bytes (empty until established).
  std::string seal();
  // The layers' last words for a closing connection, top layer first; once.
  std::string goodbye();

  const TransportStack& stack() const { return *stack_; }
  TimerId handshake_timer = 0;  // the worker's, cancelled once established

 private:
  // `bytes` from above `layer`, wrapped by every layer below it.
  std::string wrap_below(size_t layer, std::string bytes);
  void note_established_layers();

  std::shared_ptr<const TransportStack> stack_;     // its settings outlive the layers
  std::vector<std::unique_ptr<Transport>> layers_;  // [0] is next to the socket
  PeerInfo peer_info_;
  std::string pending_;
  size_t described_layers_ = 0;  // layers [0, n) are established and described
  bool established_ = false;
  bool establishment_taken_ = false;
  bool said_goodbye_ = false;
};

}  // namespace stellwerk::net

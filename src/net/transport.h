// Transports: layers between the socket and the handler (PROXY header, TLS,
// WebSocket), so that the handler always sees plain application bytes.
//
// DESIGN. A listener may carry a TransportStack: the configuration, shared by
// every connection of that listener and immutable (a reload makes a new one).
// Each accepted connection then gets a TransportChain (transport_chain.h) with
// one Transport object per layer, ordered from the socket upwards:
//   socket <-> PROXY <-> TLS <-> WebSocket <-> handler
// Input climbs the layers; application output is batched per loop turn and
// wrapped downwards; bytes a layer must answer by itself (handshakes, pongs,
// alerts) are wrapped by the layers below it only. A connection on a listener
// without a stack has no chain at all, so plain TCP pays one null check.
//
// Transports do no I/O and read no clock: the worker feeds them bytes, and
// the handshake deadline is the worker's timer. That keeps them fuzzable.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/clock.h"
#include "base/result.h"
#include "net/peer_info.h"

namespace stellwerk::net {

class TlsContext;  // net/tls_context.h

// Why a transport ends its connection. `failure` is false for an orderly end
// the peer asked for (a WebSocket close frame, a TLS close_notify).
struct TransportEnd {
  std::string why;
  bool failure = true;
};
using TransportStatus = Status<TransportEnd>;

class Transport {
 public:
  virtual ~Transport() = default;

  // Bytes from the layer below. Appends what it decoded for the layer above
  // to `up`, and what it must send back to the peer by itself to `down` (not
  // yet wrapped by the layers below). Returns an end when the connection must
  // close; what was appended before the end still counts (data in front of a
  // close frame is delivered, the close frame's answer is sent).
  [[nodiscard]] virtual TransportStatus on_input(std::span<const uint8_t> in, std::string& up,
                                                 std::string& down) = 0;

  // The handshake is done: wrap() works and describe() is final.
  virtual bool established() const = 0;

  // Once established and its header consumed, a layer that changes nothing
  // (PROXY) says so, and the chain skips it in both directions.
  virtual bool transparent() const { return false; }

  // Application bytes from above into bytes for the layer below. Dropped once
  // the layer has said goodbye: nothing may follow a close frame.
  virtual void wrap(std::string_view plain, std::string& down) = 0;

  // The connection closes: appends the layer's last words (a close frame, a
  // close_notify) once; nothing for a layer that never finished its handshake.
  virtual void goodbye(std::string& down) = 0;

  // Adds what this layer knows about the peer.
  virtual void describe(PeerInfo& info) const = 0;
};

enum class ProxyProtocol {
  off,
  v1,   // text header: "PROXY TCP4 ..."
  v2,   // binary header
  any,  // either, told apart by the first byte
};

struct WebSocketSettings {
  // A data frame whose declared payload exceeds this is refused with close
  // code 1009 before any of it is read. Payloads stream through unbuffered,
  // so the limit costs no memory; set it to the MQTT maximum packet size plus
  // some slack.
  uint64_t max_frame_bytes = 268'435'455 + 64 * 1024;
  // The HTTP upgrade request, headers included.
  size_t max_request_bytes = 16 * 1024;
  // In order of preference: the answer is the first of these that the client
  // offers. A client that offers none is accepted without one; one that
  // offers only others is refused.
  std::vector<std::string> subprotocols = {"mqtt", "mqttv3.1"};
};

// One listener's transports. The worker builds a chain from it for each
// accepted connection; layers present are stacked PROXY, TLS, WebSocket.
struct TransportStack {
  ProxyProtocol proxy = ProxyProtocol::off;
  std::shared_ptr<const TlsContext> tls;  // null: no TLS
  std::optional<WebSocketSettings> websocket;
  // A connection whose handshakes are not done by then is closed (and
  // on_close says so), so half-open handshakes cannot pile up.
  Duration handshake_timeout = seconds(10);

  bool empty() const { return proxy == ProxyProtocol::off && !tls && !websocket; }
};

}  // namespace stellwerk::net

// TransportChain: moving bytes through the stacked layers; see transport.h.
#include "net/transport_chain.h"

#include "net/proxy_protocol.h"
#include "net/tls_transport.h"
#include "net/websocket_transport.h"

namespace stellwerk::net {
namespace {

std::span<const uint8_t> bytes_of(const std::string& s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

}  // namespace

TransportChain::TransportChain(std::shared_ptr<const TransportStack> stack, PeerAddress socket_peer)
    : stack_(std::move(stack)) {
  peer_info_.address = std::move(socket_peer);
  if (stack_->proxy != ProxyProtocol::off)
    layers_.push_back(std::make_unique<ProxyProtocolTransport>(stack_->proxy));
  if (stack_->tls) layers_.push_back(std::make_unique<TlsServerTransport>(stack_->tls));
  if (stack_->websocket) layers_.push_back(std::make_unique<WebSocketServerTransport>(*stack_->websocket));
}

TransportStatus TransportChain::on_input(std::span<const uint8_t> in, TransportScratch& scratch,
                                         std::span<const uint8_t>& app, std::string& wire) {
  TransportStatus first_end;
  std::span<const uint8_t> current = in;
  const std::string* current_buffer = nullptr;  // which scratch buffer `current` is in, if any
  for (size_t i = 0; i < layers_.size() && !current.empty(); ++i) {
    Transport& layer = *layers_[i];
    if (layer.transparent()) continue;
    std::string& up = current_buffer == &scratch.a ? scratch.b : scratch.a;
    up.clear();
    std::string down;
    TransportStatus status = layer.on_input(current, up, down);
    if (!down.empty()) wire.append(wrap_below(i, std::move(down)));
    // Bytes decoded before an end still climb: an MQTT DISCONNECT in front of
    // a WebSocket close frame must reach the handler.
    if (!status.ok() && first_end.ok()) first_end = status;
    current = bytes_of(up);
    current_buffer = &up;
  }
  app = current;
  note_established_layers();
  return first_end;
}

// Layers finish their handshakes bottom-up, and each adds what it learned as
// soon as it is done, so a TLS failure behind a PROXY header is logged with
// the real peer's address.
void TransportChain::note_established_layers() {
  while (described_layers_ < layers_.size() && layers_[described_layers_]->established()) {
    layers_[described_layers_++]->describe(peer_info_);
  }
  established_ = described_layers_ == layers_.size();
}

bool TransportChain::take_establishment() {
  if (!established_ || establishment_taken_) return false;
  establishment_taken_ = true;
  return true;
}

std::string TransportChain::wrap_below(size_t layer, std::string bytes) {
  for (size_t i = layer; i-- > 0;) {
    if (layers_[i]->transparent()) continue;
    std::string wrapped;
    layers_[i]->wrap(bytes, wrapped);
    bytes = std::move(wrapped);
  }
  return bytes;
}

std::string TransportChain::seal() {
  if (!established_ || pending_.empty()) return {};
  std::string wire = wrap_below(layers_.size(), std::move(pending_));
  pending_ = std::string();
  return wire;
}

std::string TransportChain::goodbye() {
  std::string wire;
  if (said_goodbye_) return wire;
  said_goodbye_ = true;
  for (size_t i = layers_.size(); i-- > 0;) {
    std::string bytes;
    layers_[i]->goodbye(bytes);
    if (!bytes.empty()) wire.append(wrap_below(i, std::move(bytes)));
  }
  return wire;
}

}  // namespace stellwerk::net

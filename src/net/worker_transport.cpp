// Worker: the path of connections whose listener has transports.
//
// Input goes through the connection's TransportChain before the handler sees
// it; bytes the layers answer by themselves go straight to the output queue.
// Output waits in the chain until the end of the turn and is wrapped in one
// go by seal_transport_output() just before the write. A transport that ends
// a connection (bad handshake, close frame, protocol error) closes it
// gracefully, so its last words (an alert, a close frame, an HTTP error)
// still reach the peer, and the handler hears of it through on_close.
#include <cstring>

#include "base/log.h"
#include "net/connection.h"
#include "net/worker.h"

namespace stellwerk::net {

void Worker::attach_transports(Connection& c, const std::shared_ptr<const TransportStack>& transports,
                               const PeerAddress& peer) {
  c.transport = std::make_unique<TransportChain>(transports, peer);
  ConnectionId id = c.id;
  c.transport->handshake_timer =
      schedule(now_ + transports->handshake_timeout, [this, id] { expire_handshake(id); });
}

void Worker::deliver_through_transports(Connection& c, std::span<const uint8_t> bytes) {
  std::span<const uint8_t> app;
  std::string wire;
  TransportStatus status = c.transport->on_input(bytes, transport_scratch_, app, wire);
  if (!wire.empty()) {
    c.output.append(std::move(wire));
    mark_dirty(c);
  }
  if (c.transport->take_establishment()) announce_peer(c);
  if (!app.empty() && c.state == ConnectionState::open) handler_.on_data(*this, c.id, app);
  if (!status.ok()) end_by_transport(c, status.error());
}

void Worker::announce_peer(Connection& c) {
  timers_.cancel(c.transport->handshake_timer);
  c.transport->handshake_timer = 0;
  if (c.state != ConnectionState::open) return;
  handler_.on_peer_info(*this, c.id, c.transport->peer_info());
  // Output the handler queued during the handshake can go now.
  if (c.state == ConnectionState::open && c.transport->queued_bytes() > 0) mark_dirty(c);
}

void Worker::seal_transport_output(Connection& c) {
  c.output.append(c.transport->seal());
  if (c.state == ConnectionState::closing) c.output.append(c.transport->goodbye());
}

void Worker::end_by_transport(Connection& c, const TransportEnd& end) {
  if (end.failure) {
    bump(counters_.transport_failures);
    log::notice("worker {}: connection {} from {}: {}", index_, c.id, c.transport->peer_text(), end.why);
  } else {
    log::debug("worker {}: connection {} from {}: {}", index_, c.id, c.transport->peer_text(), end.why);
  }
  if (c.state != ConnectionState::open) return;
  ConnectionId id = c.id;
  close(id);  // flushes the layers' last words, then lingers for the peer's FIN
  handler_.on_close(*this, id, end.why);
}

void Worker::expire_handshake(ConnectionId id) {
  Connection* c = find(id);
  if (c == nullptr || !c->transport) return;
  c->transport->handshake_timer = 0;  // it is running now
  if (c->state != ConnectionState::open || c->transport->established()) return;
  auto limit = std::chrono::duration_cast<std::chrono::milliseconds>(c->transport->stack().handshake_timeout);
  end_by_transport(*c, TransportEnd{fmt::format("handshake not finished within {} ms", limit.count())});
}

}  // namespace stellwerk::net

// Connection affinity: with several workers, a connection whose deliveries go
// nearly all to the connections of one other worker moves there
// (docs/design/connection-affinity.md).
//
// Every delivery between workers is handed over through routed_ and wakes
// the other worker, and both workers then touch the broker's state under its
// lock. In fan-in (many publishers, one subscriber) that made two workers
// slower than one on two cores. Once the publishers sit with their
// subscriber, no delivery crosses, as with one worker. Fan-out does not
// move: its deliveries split over the workers. A connection moves at most
// once, so two that send only to each other cannot chase each other.
//
// Order per connection holds across a move: the connection's queued output
// travels with it; output routed to its old worker and not yet taken follows
// it into the new worker's list, ahead of anything routed later; and the new
// worker takes the connection in (take_arrivals) before it takes any of its
// list under the same lock.
#include <algorithm>

#include "base/log.h"
#include "net/worker.h"
#include "server/server.h"

namespace stellwerk::server {
namespace {

// Deliveries counted before a connection is judged; at full rate a window
// takes milliseconds, and a slow sender is not worth moving.
constexpr uint32_t kTrafficWindow = 4096;

}  // namespace

Server::Traffic& Server::traffic_of(net::ConnectionId source) {
  const uint32_t slot = net::connection_slot(source);
  if (slot >= traffic_.size()) traffic_.resize(slot + 1);
  Traffic& traffic = traffic_[slot];
  if (traffic.generation != net::connection_generation(source)) {
    traffic = Traffic{.generation = net::connection_generation(source)};
  }
  return traffic;
}

void Server::count_traffic(net::Worker& w, net::ConnectionId source, size_t first_item) {
  const std::vector<Outgoing>& items = staged_.items();
  if (first_item >= items.size()) return;
  Traffic& traffic = traffic_of(source);
  if (traffic.move_asked) return;
  const auto home = static_cast<uint16_t>(w.index());
  for (size_t i = first_item; i < items.size(); ++i) {
    const Outgoing& item = items[i];
    if (item.id == source || item.close) continue;  // its own acknowledgements
    const Route* route = route_of(item.id);
    if (route == nullptr) continue;
    // A parked worker is no place to go (rebalance.cpp).
    const bool away = route->worker != home && !workers_[route->worker]->parked();
    if (away && (traffic.away == 0 || route->worker == traffic.away_worker)) {
      traffic.away_worker = route->worker;
      ++traffic.away;
    } else {
      ++traffic.home;  // a third worker counts against moving: there is no one place to go
    }
  }
  const uint32_t total = traffic.home + traffic.away;
  if (total < kTrafficWindow) return;
  if (traffic.away >= total / 10 * 9) {
    traffic.move_asked = true;
    moves_wanted_[home].push_back(WantedMove{source, traffic.away_worker, "where its deliveries go"});
  }
  traffic.home = traffic.away = 0;
}

void Server::move_wanted_connections(net::Worker& w) {
  std::vector<WantedMove>& wanted = moves_wanted_[static_cast<size_t>(w.index())];
  for (const WantedMove& move : wanted) move_connection(w, move.id, move.to, move.why);
  wanted.clear();
}

void Server::move_connection(net::Worker& from, net::ConnectionId id, uint16_t to, std::string_view why) {
  const auto& draining = drain_wanted_[static_cast<size_t>(from.index())];
  // A retained backlog's continuation belongs to the worker that serves it.
  net::MovingConnection moving;
  if (std::find(draining.begin(), draining.end(), id) == draining.end()) moving = from.move_out(id);
  std::lock_guard lock(broker_mutex_);
  Route* route = route_of(id);
  if (!moving || route == nullptr || route->worker != from.index()) {
    // Cannot move now, or the broker closed it meanwhile: it stays, and the
    // next window of its traffic may ask again.
    if (moving) from.move_in(std::move(moving));
    traffic_of(id).move_asked = false;
    return;
  }
  route->worker = to;
  reroute_routed(id, static_cast<size_t>(from.index()), to);
  arrivals_[to].push_back(std::move(moving));
  post_drains();
  counters_.connections_moved.fetch_add(1, std::memory_order_relaxed);
  log::debug("connection {} moves from worker {} to worker {}, {}", id, from.index(), to, why);
}

void Server::reroute_routed(net::ConnectionId id, size_t from, size_t to) {
  OutputBatch& old_list = routed_[from];
  const auto& items = old_list.items();
  if (std::none_of(items.begin(), items.end(), [&](const Outgoing& item) { return item.id == id; })) return;
  OutputBatch rest;
  for (const Outgoing& item : items) (item.id == id ? routed_[to] : rest).take(old_list, item);
  old_list.swap(rest);
}

void Server::take_arrivals(net::Worker& w) {
  auto& arriving = arrivals_[static_cast<size_t>(w.index())];
  for (net::MovingConnection& moving : arriving) w.move_in(std::move(moving));
  arriving.clear();
}

}  // namespace stellwerk::server

// Worker: moving a live connection to another worker (worker.h, move_out).
//
// The Connection object travels as it is: its id, socket and queued output.
// Only the worker's own lists point at it, so leaving means taking it out of
// the epoll set and out of the dirty list; an id left in the read backlog is
// skipped later as a miss. The new worker registers the socket for the same
// edges and reads it at once, because an edge that came while no epoll set
// watched it is gone.
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "base/log.h"
#include "net/connection.h"
#include "net/worker.h"

namespace stellwerk::net {

MovingConnection::MovingConnection() = default;
MovingConnection::MovingConnection(std::unique_ptr<Connection> connection)
    : connection_(std::move(connection)) {}
MovingConnection::MovingConnection(MovingConnection&&) noexcept = default;
MovingConnection& MovingConnection::operator=(MovingConnection&&) noexcept = default;

MovingConnection::~MovingConnection() {
  if (connection_ && connection_->fd >= 0) ::close(connection_->fd);
}

ConnectionId MovingConnection::id() const { return connection_ ? connection_->id : 0; }

MovingConnection Worker::move_out(ConnectionId id) {
  Connection* c = find(id);
  if (c == nullptr || c->state != ConnectionState::open || c->read_paused || c->peer_shut || c->transport ||
      c->write_blocked) {
    return {};
  }
  if (::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, c->fd, nullptr) != 0) return {};
  if (c->in_dirty_list) {
    std::erase(dirty_, c);
    c->in_dirty_list = false;
  }
  c->in_read_backlog = false;
  count_open_connections(-1);
  return MovingConnection(std::move(connections_[connection_slot(id)]));
}

void Worker::move_in(MovingConnection moving) {
  std::unique_ptr<Connection> c = std::move(moving.connection_);
  if (!c) return;
  const ConnectionId id = c->id;
  const uint32_t slot = connection_slot(id);
  if (slot >= connections_.size()) connections_.resize(slot + 1);
  c->last_read_turn = 0;
  c->maybe_readable = true;
  const bool watched = watch_connection(c->fd, id);
  const int error = errno;
  Connection& connection = *c;
  connections_[slot] = std::move(c);
  count_open_connections(+1);
  if (!watched) {
    // The handler hears of it from a task of its own, not from inside the
    // call that handed the connection over.
    log::error("worker {}: cannot watch a connection moved here: {}", index_, std::strerror(error));
    post([this, id] {
      if (Connection* gone = find(id)) finalize(*gone, "the worker could not watch its socket", true);
    });
    return;
  }
  queue_read_backlog(connection);
  if (!connection.output.empty()) mark_dirty(connection);
}

}  // namespace stellwerk::net

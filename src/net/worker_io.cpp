// Worker: reading, writing and closing connections.
//
// Reads go into the worker's one read buffer and straight to the handler.
// Writes happen only in flush_dirty() at the end of a turn, so everything a
// turn queued for a socket leaves in one sendmsg (more only past 64 chunks).
// Both sides trust a short transfer: a read shorter than asked means the
// socket is empty and a partial write means its buffer is full, so neither
// needs a second system call to meet EAGAIN; the next edge says when to go on.
//
// close() is graceful: flush, shutdown(SHUT_WR), then read and drop input
// until the peer's FIN, all within close_timeout. Closing a socket with unread
// input makes the kernel send RST, and a peer that receives RST may discard
// what we sent last (a CONNACK or DISCONNECT carrying the reason).
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "base/log.h"
#include "net/connection.h"
#include "net/worker.h"

namespace stellwerk::net {
namespace {

constexpr int kMaxIovecs = 64;

int pending_socket_error(int fd) {
  int error = 0;
  socklen_t length = sizeof error;
  if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length) != 0) return errno;
  return error != 0 ? error : ECONNRESET;
}

bool would_block(int error) { return error == EAGAIN || error == EWOULDBLOCK; }

}  // namespace

Connection* Worker::find(ConnectionId id) const {
  const uint32_t slot = connection_slot(id);
  if (slot >= connections_.size()) return nullptr;
  Connection* c = connections_[slot].get();
  return c != nullptr && c->id == id ? c : nullptr;  // else a later connection holds the slot
}

void Worker::send(ConnectionId id, std::string_view bytes) {
  Connection* c = find(id);
  if (c == nullptr || c->state != ConnectionState::open) return;
  if (c->transport) {
    c->transport->queue(bytes);
  } else {
    c->output.append(bytes);
  }
  mark_dirty(*c);
}

void Worker::send(ConnectionId id, std::string&& bytes) {
  Connection* c = find(id);
  if (c == nullptr || c->state != ConnectionState::open) return;
  if (c->transport) {
    c->transport->queue(bytes);  // wrapped with the rest of the turn's output
  } else {
    c->output.append(std::move(bytes));
  }
  mark_dirty(*c);
}

void Worker::close(ConnectionId id) {
  Connection* c = find(id);
  if (c == nullptr || c->state != ConnectionState::open) return;
  c->state = ConnectionState::closing;
  count_open_connections(-1);
  c->close_deadline = schedule(now_ + options_.close_timeout, [this, id] { expire_close(id); });
  if (c->maybe_readable) queue_read_backlog(*c);  // drain what a paused reader left behind
  mark_dirty(*c);  // the flush also finishes the close when nothing is queued
}

void Worker::abort(ConnectionId id) {
  if (Connection* c = find(id)) finalize(*c, "", false);
}

size_t Worker::queued_output_bytes(ConnectionId id) const {
  Connection* c = find(id);
  if (c == nullptr) return 0;
  return c->output.size() + (c->transport ? c->transport->queued_bytes() : 0);
}

bool Worker::output_blocked(ConnectionId id) const {
  Connection* c = find(id);
  return c != nullptr && c->write_blocked;
}

void Worker::set_read_paused(ConnectionId id, bool paused) {
  Connection* c = find(id);
  if (c == nullptr || c->state != ConnectionState::open) return;
  c->read_paused = paused;
  // The edge that announced the waiting bytes was spent while paused.
  if (!paused && c->maybe_readable) queue_read_backlog(*c);
}

void Worker::on_connection_event(Connection& c, uint32_t events) {
  bool input = (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) != 0;
  if (input) c.maybe_readable = true;
  if ((events & (EPOLLRDHUP | EPOLLHUP)) != 0) c.peer_shut = true;
  if ((events & EPOLLERR) != 0 && !can_read(c)) return fail_io(c, "socket", pending_socket_error(c.fd));
  if (input) ready_to_read_.push_back(c.id);  // read after every event is seen, together
  if ((events & EPOLLOUT) != 0 && c.write_blocked && c.state != ConnectionState::dead) {
    c.write_blocked = false;
    mark_dirty(c);
  }
}

bool Worker::can_read(const Connection& c) const {
  switch (c.state) {
    case ConnectionState::open: return !c.read_paused;
    case ConnectionState::closing: return !c.peer_eof;  // input is read and dropped
    case ConnectionState::dead: return false;
  }
  return false;
}

void Worker::read_from(Connection& c) {
  if (c.last_read_turn == turn_) return queue_read_backlog(c);  // had its share this turn
  c.last_read_turn = turn_;
  read_on(c, options_.read_budget_per_turn);
}

// Reads until the socket is empty or `budget` bytes have come this turn.
void Worker::read_on(Connection& c, size_t budget) {
  while (can_read(c)) {
    if (budget == 0) return queue_read_backlog(c);
    size_t want = std::min(read_buffer_.size(), budget);
    ssize_t n = ::read(c.fd, read_buffer_.data(), want);
    ssize_t result = n < 0 ? -errno : n;
    if (!take_read_result(c, result, want, {read_buffer_.data(), n > 0 ? static_cast<size_t>(n) : 0})) return;
    budget -= static_cast<size_t>(std::max<ssize_t>(result, 0));
  }
}

// Handles one read's `result` (bytes, or -errno) of the `asked` bytes;
// true when the socket may hold more.
bool Worker::take_read_result(Connection& c, ssize_t result, size_t asked, std::span<const uint8_t> bytes) {
  bump(counters_.reads);
  if (result == 0) {
    on_peer_eof(c);
    return false;
  }
  if (result < 0) {
    int error = static_cast<int>(-result);
    if (error == EINTR) return true;
    if (would_block(error)) {
      c.maybe_readable = false;
    } else {
      fail_io(c, "read", error);
    }
    return false;
  }
  auto got = static_cast<size_t>(result);
  bump(counters_.bytes_read, got);
  c.last_read_length = static_cast<uint32_t>(got);
  // After the peer's FIN no new edge will come, so read on to EOF then.
  bool drained = got < asked && !c.peer_shut;
  if (drained) c.maybe_readable = false;
  deliver(c, bytes);
  return !drained;
}

void Worker::deliver(Connection& c, std::span<const uint8_t> bytes) {
  if (c.state != ConnectionState::open) return;  // closing: input is dropped
  if (c.transport) return deliver_through_transports(c, bytes);
  handler_.on_data(*this, c.id, bytes);
}

void Worker::on_peer_eof(Connection& c) {
  c.peer_eof = true;
  c.maybe_readable = false;
  if (c.state == ConnectionState::open) return finalize(c, "peer closed the connection", true);
  // Closing: a half-closed peer may still read; finish when the output is out.
  if (c.shut_down_write) finalize(c, "", false);
}

void Worker::write_out(Connection& c) {
  if (c.transport) seal_transport_output(c);
  write_queued(c);
}

void Worker::write_queued(Connection& c) {
  while (!c.output.empty()) {
    iovec iov[kMaxIovecs];
    int count = c.output.gather(iov, kMaxIovecs);
    msghdr message{};
    message.msg_iov = iov;
    message.msg_iovlen = static_cast<size_t>(count);
    // MSG_NOSIGNAL: a peer that reset must cost us an EPIPE, not a SIGPIPE.
    ssize_t n = ::sendmsg(c.fd, &message, MSG_NOSIGNAL);
    if (!take_write_result(c, n < 0 ? -errno : n, total_length(iov, count))) return;
  }
  if (c.state == ConnectionState::closing) finish_close_after_flush(c);
}

// Handles one sendmsg's `result` (bytes, or -errno) of the `asked` bytes;
// true when all of them went out.
bool Worker::take_write_result(Connection& c, ssize_t result, size_t asked) {
  bump(counters_.writes);
  if (result == -EINTR) return true;
  if (result < 0 && !would_block(static_cast<int>(-result))) {
    fail_io(c, "write", static_cast<int>(-result));
    return false;
  }
  size_t written = result < 0 ? 0 : static_cast<size_t>(result);
  bump(counters_.bytes_written, written);
  c.output.consume(written);
  if (written < asked) {
    c.write_blocked = true;  // the EPOLLOUT edge will mark it dirty again
    bump(counters_.write_blocks);
    return false;
  }
  return true;
}

void Worker::finish_close_after_flush(Connection& c) {
  if (c.shut_down_write) return;
  if (c.peer_eof) return finalize(c, "", false);
  // Our FIN goes out now; the fd is closed when the peer's FIN arrives (a read
  // returns 0) or when the close deadline passes.
  ::shutdown(c.fd, SHUT_WR);
  c.shut_down_write = true;
}

void Worker::expire_close(ConnectionId id) {
  Connection* c = find(id);
  if (c == nullptr || c->state != ConnectionState::closing) return;
  c->close_deadline = 0;  // it is running now
  log::debug("worker {}: connection {} did not finish closing in time; {} bytes unsent", index_, id,
             c->output.size());
  finalize(*c, "", false);
}

void Worker::fail_io(Connection& c, std::string_view operation, int error) {
  finalize(c, fmt::format("{} failed: {}", operation, std::strerror(error)), true);
}

// Closes the fd and retires the connection; the handler hears of it only if
// `notify` and the handler had not already closed it itself.
void Worker::finalize(Connection& c, std::string_view why, bool notify) {
  if (c.state == ConnectionState::dead) return;
  bool tell_handler = notify && c.state == ConnectionState::open;
  if (c.state == ConnectionState::open) count_open_connections(-1);
  if (c.close_deadline != 0) timers_.cancel(c.close_deadline);
  if (c.transport && c.transport->handshake_timer != 0) timers_.cancel(c.transport->handshake_timer);
  ::close(c.fd);  // also takes it out of epoll
  c.fd = -1;
  c.state = ConnectionState::dead;
  c.output.clear();
  ConnectionId id = c.id;
  graveyard_.push_back(std::move(connections_[connection_slot(id)]));  // `c` stays valid until the turn ends
  if (tell_handler) handler_.on_close(*this, id, why);
  release_id(id);  // after on_close, so the handler never sees the slot taken while it speaks of `id`
}

void Worker::mark_dirty(Connection& c) {
  // A blocked socket is written again when its EPOLLOUT edge arrives.
  if (c.in_dirty_list || c.write_blocked) return;
  c.in_dirty_list = true;
  dirty_.push_back(&c);
}

void Worker::queue_read_backlog(Connection& c) {
  if (c.in_read_backlog) return;
  c.in_read_backlog = true;
  read_backlog_.push_back(c.id);
}

}  // namespace stellwerk::net

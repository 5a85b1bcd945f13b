// Worker: listeners and the connections they produce.
//
// Listeners are level-triggered and shared by several workers with
// EPOLLEXCLUSIVE, so a new connection wakes one idle worker rather than all.
// A turn accepts at most max_accepts_per_turn per listener; level triggering
// brings the worker back for the rest. Running out of descriptors (EMFILE,
// ENFILE) or memory is not cured by retrying at once, and the listener would
// report the same pending connection again on every epoll_wait, so it leaves
// epoll for accept_backoff instead (an EPOLLEXCLUSIVE registration cannot be
// modified, only deleted and added again). The worker that accepts is not
// always the one that keeps the connection: see set_peers() in worker.h.
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <mutex>
#include <utility>
#include <vector>

#include "base/log.h"
#include "net/address.h"
#include "net/connection.h"
#include "net/worker.h"

namespace stellwerk::net {
namespace {

// The slots behind connection ids (worker.h), shared by every worker of the
// process. A mutex suffices: it is taken once per accept and once per close.
class SlotIds {
 public:
  ConnectionId take() {
    std::lock_guard lock(mutex_);
    uint32_t slot;
    if (free_.empty()) {
      slot = static_cast<uint32_t>(generations_.size());
      generations_.push_back(1);
    } else {
      slot = free_.back();
      free_.pop_back();
    }
    return ConnectionId{generations_[slot]} << 32 | slot;
  }
  void give_back(ConnectionId id) {
    std::lock_guard lock(mutex_);
    uint32_t& generation = generations_[connection_slot(id)];
    // Below 2^31 keeps ids clear of the epoll tag bit (connection.h); never 0.
    generation = generation == kLastGeneration ? 1 : generation + 1;
    free_.push_back(connection_slot(id));
  }

 private:
  static constexpr uint32_t kLastGeneration = (uint32_t{1} << 31) - 1;
  std::mutex mutex_;
  std::vector<uint32_t> generations_;  // by slot: the generation of its next or current id
  std::vector<uint32_t> free_;
};

SlotIds& slot_ids() {
  static SlotIds ids;
  return ids;
}

void set_no_delay(int fd) {
  int on = 1;
  // Fails only for non-TCP sockets, which then simply keep their default.
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
}

bool has_no_delay(int fd) {
  int value = 0;
  socklen_t length = sizeof value;
  return ::getsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &value, &length) == 0 && value != 0;
}

bool set_non_blocking(int fd) {
  int flags = ::fcntl(fd, F_GETFL);
  return flags >= 0 && ::fcntl(fd, F_SETFL, flags | O_NONBLOCK) == 0;
}

// An accepted socket on its way to another worker. Closed if that worker
// stops before it opens it (its queued tasks are destroyed unrun).
class HandedSocket {
 public:
  explicit HandedSocket(int fd) : fd_(fd) {}
  ~HandedSocket() {
    if (fd_ >= 0) ::close(fd_);
  }
  HandedSocket(const HandedSocket&) = delete;
  HandedSocket& operator=(const HandedSocket&) = delete;
  int release() { return std::exchange(fd_, -1); }

 private:
  int fd_;
};

}  // namespace

void Worker::release_id(ConnectionId id) { slot_ids().give_back(id); }

void Worker::add_listener(int listen_fd, int listener_tag, std::shared_ptr<const TransportStack> transports) {
  listeners_.push_back(Listener{listen_fd, listener_tag});
  listeners_.back().no_delay_inherited = has_no_delay(listen_fd);
  set_listener_transports(listen_fd, std::move(transports));
  register_listener(listeners_.size() - 1);
}

void Worker::set_listener_transports(int listen_fd, std::shared_ptr<const TransportStack> transports) {
  if (transports && transports->empty()) transports = nullptr;  // keep plain TCP on the plain path
  for (Listener& l : listeners_) {
    if (l.fd == listen_fd && !l.removed) l.transports = transports;
  }
}

void Worker::remove_listener(int listen_fd) {
  for (Listener& l : listeners_) {
    if (l.fd != listen_fd || l.removed) continue;
    if (l.in_epoll) ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, l.fd, nullptr);
    l.in_epoll = false;
    l.removed = true;
  }
}

bool Worker::register_listener(size_t slot) {
  Listener& l = listeners_[slot];
  epoll_event event{};
  event.events = EPOLLIN | EPOLLEXCLUSIVE;
  event.data.u64 = listener_epoll_tag(slot);
  if (::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, l.fd, &event) != 0) {
    log::error("worker {}: cannot watch listener fd {}: {}", index_, l.fd, std::strerror(errno));
    return false;
  }
  l.in_epoll = true;
  return true;
}

void Worker::accept_from(size_t slot) {
  for (int i = 0; i < options_.max_accepts_per_turn; ++i) {
    sockaddr_storage peer{};
    socklen_t length = sizeof peer;
    auto* peer_address = reinterpret_cast<sockaddr*>(&peer);
    int fd = ::accept4(listeners_[slot].fd, peer_address, &length, SOCK_NONBLOCK | SOCK_CLOEXEC);
    bump(counters_.accepts);
    if (fd < 0) {
      if (accept_error_allows_retry(slot, errno)) continue;
      return;
    }
    Listener& listener = listeners_[slot];
    listener.shortage_logged = false;
    if (!listener.no_delay_inherited) set_no_delay(fd);
    PeerAddress peer_text{format_endpoint(peer_address)};
    if (Worker& owner = least_loaded(); &owner != this) {
      hand_over(owner, fd, listener.tag, std::move(peer_text), listener.transports);
      continue;
    }
    open_connection(fd, listener.tag, peer_text, listener.transports);
    if (!listener.in_epoll) return;  // on_open removed the listener
  }
}

// Says whether to try accept4 again in this turn.
bool Worker::accept_error_allows_retry(size_t slot, int error) {
  switch (error) {
    case EAGAIN:
      return false;  // nothing pending
    case EINTR:
    case ECONNABORTED:
    case EPROTO:
    case EPERM:
      return true;  // that one connection failed; others may be waiting
    default:
      pause_accepting(slot, error);  // EMFILE, ENFILE, ENOBUFS, ENOMEM, or worse
      return false;
  }
}

void Worker::pause_accepting(size_t slot, int error) {
  Listener& l = listeners_[slot];
  ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, l.fd, nullptr);
  l.in_epoll = false;
  bump(counters_.accept_pauses);
  if (!l.shortage_logged) {
    // Logged once per shortage: the flag is reset by the next successful accept.
    log::warning("worker {}: accept on fd {} failed: {}; pausing accepts for {} ms", index_, l.fd,
                 std::strerror(error),
                 std::chrono::duration_cast<std::chrono::milliseconds>(options_.accept_backoff).count());
    l.shortage_logged = true;
  }
  schedule(now_ + options_.accept_backoff, [this, slot] { resume_accepting(slot); });
}

void Worker::resume_accepting(size_t slot) {
  Listener& l = listeners_[slot];
  if (l.removed || l.in_epoll) return;
  register_listener(slot);
}

void Worker::make_peers(const std::vector<std::unique_ptr<Worker>>& workers) {
  std::vector<Worker*> peers;
  for (const auto& worker : workers) peers.push_back(worker.get());
  for (const auto& worker : workers) worker->set_peers(peers);
}

size_t Worker::load() const { return connection_count() + incoming_.load(std::memory_order_relaxed); }

Worker& Worker::least_loaded() {
  Worker* best = parked() ? nullptr : this;
  size_t best_load = best != nullptr ? load() : SIZE_MAX;
  for (Worker* peer : peers_) {
    if (peer->parked()) continue;
    const size_t peer_load = peer->load();
    if (peer_load < best_load) {
      best = peer;
      best_load = peer_load;
    }
  }
  return best != nullptr ? *best : *this;
}

void Worker::hand_over(Worker& owner, int fd, int listener_tag, PeerAddress peer,
                       std::shared_ptr<const TransportStack> transports) {
  owner.incoming_.fetch_add(1, std::memory_order_relaxed);
  auto socket = std::make_shared<HandedSocket>(fd);
  owner.post([&owner, socket, listener_tag, peer = std::move(peer), transports = std::move(transports)] {
    owner.open_connection(socket->release(), listener_tag, peer, transports);
    owner.incoming_.fetch_sub(1, std::memory_order_relaxed);
  });
}

ConnectionId Worker::adopt_socket(int fd, int listener_tag, const PeerAddress& peer) {
  if (!set_non_blocking(fd)) {
    log::error("worker {}: cannot make fd {} non-blocking: {}", index_, fd, std::strerror(errno));
    ::close(fd);
    return 0;
  }
  return open_connection(fd, listener_tag, peer);
}

// Registered once for both directions, never modified (see worker.h).
bool Worker::watch_connection(int fd, ConnectionId id) {
  epoll_event event{};
  event.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
  event.data.u64 = id;
  return ::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &event) == 0;
}

ConnectionId Worker::open_connection(int fd, int listener_tag, const PeerAddress& peer,
                                     const std::shared_ptr<const TransportStack>& transports) {
  auto c = std::make_unique<Connection>();
  c->id = slot_ids().take();
  c->fd = fd;
  if (!watch_connection(fd, c->id)) {
    log::error("worker {}: cannot watch connection from {}: {}", index_, peer.text, std::strerror(errno));
    ::close(fd);
    slot_ids().give_back(c->id);
    return 0;
  }
  ConnectionId id = c->id;
  if (transports) attach_transports(*c, transports, peer);
  const uint32_t slot = connection_slot(id);
  if (slot >= connections_.size()) connections_.resize(slot + 1);
  connections_[slot] = std::move(c);
  count_open_connections(+1);
  handler_.on_open(*this, id, listener_tag, peer);
  return id;
}

}  // namespace stellwerk::net

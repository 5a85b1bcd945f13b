// Worker: one thread running one edge-triggered epoll loop.
//
// DESIGN. A connection lives on one worker at a time (move_out/move_in hand
// it to another); only that worker's thread touches it, so nothing
// per-connection is locked. Other
// threads reach a worker through post(). One loop turn is:
//   1. epoll_wait (timeout: the next timer, or 0 when work is already waiting;
//      with wakeup_coalescing, a worker that wakes often pauses first)
//   2. reads: each readable socket is read until EAGAIN or a short read into
//      one reusable buffer, at most read_budget_per_turn bytes; a socket that
//      had more waits in a backlog for the next turn, so one busy peer cannot
//      starve the others. When several sockets are readable, their first
//      reads go to the kernel together (io_ring.h), one slice of a shared
//      buffer each, and are handed over in event order
//   3. accepts, due timers, then the tasks posted since the last turn. A
//      worker that accepts a connection while another has fewer hands it
//      over (set_peers), so connections spread evenly over the workers
//   4. handler.on_turn_end()
//   5. writes: every connection that got output this turn ("dirty") is
//      written once with sendmsg over up to 64 iovecs (16 when several go to
//      the kernel together); a full socket buffer leaves the rest for the
//      EPOLLOUT edge
// Sockets are registered once for EPOLLIN|EPOLLOUT|EPOLLRDHUP|EPOLLET and
// never modified, so back-pressure and blocked writes cost no epoll_ctl.
//
// A listener may carry a TransportStack (transport.h): its connections then
// pass through PROXY/TLS/WebSocket layers (worker_transport.cpp) and the
// handler still sees plain bytes. Connections without one take the plain
// path, which only tests a null pointer.
//
// A handler may call close()/abort() on any connection from any callback,
// including the one being served: the Connection object is kept until the end
// of the turn (deferred deletion), and every path re-checks its state.
#pragma once

#include <sys/epoll.h>
#include <sys/uio.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <latch>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "base/clock.h"
#include "net/connection_handler.h"
#include "net/io_ring.h"
#include "net/pause_policy.h"
#include "net/task_queue.h"
#include "net/timer_queue.h"
#include "net/transport.h"
#include "net/transport_chain.h"

namespace stellwerk::net {

struct WorkerOptions {
  size_t read_buffer_bytes = 64 * 1024;
  size_t read_budget_per_turn = 256 * 1024;  // per socket, for fairness
  int max_events_per_wait = 256;
  int max_accepts_per_turn = 64;                // per listener; the rest waits a turn
  Duration close_timeout = seconds(2);          // close(): flush and linger at most this long
  Duration accept_backoff = milliseconds(100);  // pause after EMFILE/ENFILE
  // A worker whose last sleep was shorter than this, and finds nothing
  // waiting, pauses this long before it sleeps again (see wait_for_events).
  // Zero: it sleeps at once.
  Duration wakeup_coalescing = Duration::zero();
  // ... but only while it was busy for this share of the last 100 ms
  // (net/pause_policy.h); 0 = whenever it wakes often.
  double pause_from_busy_share = PausePolicy::kStartAtBusyShare;
  // With two or more sockets to read (or to write) in a turn, hand them to
  // the kernel in one io_uring call instead of one system call each. Where
  // the kernel refuses io_uring the worker falls back to the latter.
  bool batch_system_calls = true;
};

// A snapshot of one worker's counters, for benchmarks and metrics.
struct WorkerStats {
  uint64_t loop_turns = 0;  // epoll_wait calls
  uint64_t reads = 0;       // read() calls, batched ones included
  uint64_t batches = 0;     // io_uring calls that carried several reads or writes
  uint64_t bytes_read = 0;
  uint64_t writes = 0;  // sendmsg() calls, batched ones included
  uint64_t bytes_written = 0;
  uint64_t write_blocks = 0;   // writes that found the socket buffer full
  uint64_t accepts = 0;        // accept4() calls, failed ones included
  uint64_t accept_pauses = 0;  // times accepting stopped for lack of descriptors
  uint64_t wakeups = 0;        // eventfd writes made by post()
  uint64_t tasks_run = 0;
  uint64_t timers_fired = 0;
  uint64_t pauses = 0;              // pauses before sleeping (wakeup_coalescing)
  uint64_t transport_failures = 0;  // failed handshakes, bad frames, handshake timeouts
};

struct Connection;  // net/connection.h; private to the worker

// A connection on its way from one worker to another (Worker::move_out,
// Worker::move_in): the socket and the output queued for it. Opaque outside
// net. Dropped without move_in, it closes the socket.
class MovingConnection {
 public:
  MovingConnection();
  ~MovingConnection();
  MovingConnection(MovingConnection&&) noexcept;
  MovingConnection& operator=(MovingConnection&&) noexcept;

  explicit operator bool() const { return connection_ != nullptr; }
  ConnectionId id() const;

 private:
  friend class Worker;
  explicit MovingConnection(std::unique_ptr<Connection> connection);
  std::unique_ptr<Connection> connection_;
};

// Connection ids are dense. The low 32 bits are a slot, handed out again
// once its connection is gone; the high bits count the slot's uses, so an
// id is not reused until its slot has served 2^31 connections, long after
// anything could still hold the old one. Tables indexed by slot (the
// worker's own, the server's routes) take the place of hash maps keyed by
// id: a connection costs a pointer in each rather than a hash node
// (docs/performance.md, memory per connection).
inline uint32_t connection_slot(ConnectionId id) { return static_cast<uint32_t>(id); }
inline uint32_t connection_generation(ConnectionId id) { return static_cast<uint32_t>(id >> 32); }

class Worker {
 public:
  using TimerId = net::TimerId;

  // Aborts the process if the epoll or event fd cannot be made (only fd
  // exhaustion at start-up does that).
  Worker(int index, ConnectionHandler& handler, WorkerOptions options = {});
  // Stops and joins, then closes every connection without calling the
  // handler. Listener fds are not closed: they belong to the caller.
  ~Worker();
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  int index() const { return index_; }
  // Runs the loop on a new thread; returns once that thread has made what
  // it holds for its whole life (its io_uring ring), so descriptors are not
  // opened behind the caller's back later.
  void start();
  void request_stop();  // any thread; the loop exits after the current turn
  void join();

  // Any thread: runs `task` on this worker's thread soon. Tasks from one
  // producer run in the order posted. Only a post onto an empty queue from
  // another thread writes the eventfd. Tasks still queued when the loop
  // stops are destroyed without running.
  void post(std::function<void()> task);

  // Any thread.
  size_t connection_count() const;  // opened and not yet closed by either side
  WorkerStats stats() const;
  bool in_worker_thread() const;
  // The loop thread's kernel id (gettid), for its scheduler figures; 0 before it runs.
  int thread_tid() const { return thread_tid_.load(std::memory_order_relaxed); }
  // A parked worker takes no new connections from its peers' accepts, nor
  // keeps those it accepts (server/worker_balance.h). It still serves the
  // connections it has.
  void set_parked(bool parked) { parked_.store(parked, std::memory_order_relaxed); }
  bool parked() const { return parked_.load(std::memory_order_relaxed); }

  // Before start(): the workers that share this one's listeners, itself
  // included. Each connection accepted goes to the one with the fewest
  // connections (counting those handed over and not yet opened), this one
  // on a tie: EPOLLEXCLUSIVE wakes whichever worker waits first, often the
  // same one, and left alone that one would hold most connections while the
  // others idle. Without peers a worker keeps what it accepts.
  void set_peers(std::vector<Worker*> peers) { peers_ = std::move(peers); }
  // Makes every one of `workers` the others' peer.
  static void make_peers(const std::vector<std::unique_ptr<Worker>>& workers);

  // Everything below: the worker's thread only (or before start()).

  // Accepts from `listen_fd` (shared by several workers: EPOLLEXCLUSIVE wakes
  // one of them). On EMFILE/ENFILE accepting pauses for accept_backoff.
  // With a non-empty `transports`, every connection accepted gets them.
  void add_listener(int listen_fd, int listener_tag,
                    std::shared_ptr<const TransportStack> transports = nullptr);
  // Replaces a listener's transports (a TLS reload): connections accepted
  // from now on take the new ones, open connections keep theirs.
  void set_listener_transports(int listen_fd, std::shared_ptr<const TransportStack> transports);
  void remove_listener(int listen_fd);  // stop accepting; the fd stays open
  // Takes over a connected socket made elsewhere (an outgoing bridge
  // connection, say) as if accepted: calls on_open. Returns 0 and closes
  // `fd` if it cannot be registered.
  ConnectionId adopt_socket(int fd, int listener_tag, const PeerAddress& peer);

  // Moves a connection to another worker, under the same id and without
  // on_open or on_close: move_out() takes it out of this worker's loop with
  // the output queued for it; the socket keeps what arrives meanwhile, and
  // the worker given it with move_in() reads that first. Call both from
  // on_turn_end or a posted task, not from a callback that reads the
  // connection. move_out() hands back nothing, and the connection stays,
  // when it cannot move now: closing, paused, shut by the peer, behind
  // transports (their handshake timers belong to this worker), or waiting
  // for its socket buffer to drain.
  MovingConnection move_out(ConnectionId id);
  void move_in(MovingConnection moving);

  // Queue output, written at the end of the turn. Ignored for unknown or
  // closing connections. With transports, output queued before their
  // handshakes finish waits for them.
  void send(ConnectionId id, std::string_view bytes);
  void send(ConnectionId id, std::string&& bytes);  // takes the buffer, no copy
  // Writes what is queued, then closes; gives up after close_timeout or on an
  // error. Input arriving meanwhile is read and dropped. No on_close.
  void close(ConnectionId id);
  // Closes now; queued output is dropped. No on_close.
  void abort(ConnectionId id);
  size_t queued_output_bytes(ConnectionId id) const;
  // True while queued output waits for the socket's EPOLLOUT edge (which
  // turns the loop); false for unknown connections.
  bool output_blocked(ConnectionId id) const;
  // Paused connections are not read, so the peer is slowed by TCP itself.
  // Input already read in this turn is still handed over.
  void set_read_paused(ConnectionId id, bool paused);

  // One-shot timer; `fn` runs on this thread at or after `when`.
  TimerId schedule(TimePoint when, std::function<void()> fn);
  void cancel(TimerId id);                // cheap; no-op for a timer that already ran
  TimePoint now() const { return now_; }  // read once per turn

 private:
  struct Listener {
    int fd = -1;
    int tag = 0;
    bool in_epoll = false;
    bool removed = false;
    bool shortage_logged = false;
    bool no_delay_inherited = false;  // the listener has TCP_NODELAY, so its accepted sockets have it
    std::shared_ptr<const TransportStack> transports;  // null: plain TCP
  };
  struct Counters {
    std::atomic<uint64_t> loop_turns{0}, reads{0}, bytes_read{0}, writes{0}, bytes_written{0},
        write_blocks{0}, batches{0}, accepts{0}, accept_pauses{0}, wakeups{0}, tasks_run{0}, timers_fired{0},
        pauses{0}, transport_failures{0};
  };
  // Counters have a single writer (the loop), so a relaxed load+store is enough.
  static void bump(std::atomic<uint64_t>& counter, uint64_t by = 1) {
    counter.store(counter.load(std::memory_order_relaxed) + by, std::memory_order_relaxed);
  }

  // worker.cpp: the loop
  void run(std::latch& set_up);
  void run_turn();
  int wait_for_events();
  int wait_once(int timeout_ms);
  struct Slept {
    int ready;
    Duration asleep;
  };
  Slept sleep_until_events(int timeout_ms, TimePoint asleep_from);
  void pause_before_sleeping();
  int wait_timeout_ms();
  void dispatch(const epoll_event& event);
  void continue_backlogged_reads();
  void read_ready_sockets();
  void run_posted_tasks();
  void flush_dirty();

  // worker_accept.cpp: listeners
  void accept_from(size_t slot);
  bool accept_error_allows_retry(size_t slot, int error);
  void pause_accepting(size_t slot, int error);
  void resume_accepting(size_t slot);
  bool register_listener(size_t slot);
  bool watch_connection(int fd, ConnectionId id);
  ConnectionId open_connection(int fd, int listener_tag, const PeerAddress& peer,
                               const std::shared_ptr<const TransportStack>& transports = nullptr);
  // The worker among peers_ that should own the next connection: the least
  // loaded one that is not parked (this one when all are).
  Worker& least_loaded();
  size_t load() const;  // connections open, plus those handed over and not yet opened
  // Has `owner` open an accepted socket on its own thread.
  void hand_over(Worker& owner, int fd, int listener_tag, PeerAddress peer,
                 std::shared_ptr<const TransportStack> transports);
  // The id's slot may serve another connection (of any worker) from now on.
  static void release_id(ConnectionId id);

  // worker_io.cpp: connections
  Connection* find(ConnectionId id) const;
  void on_connection_event(Connection& c, uint32_t events);
  void read_from(Connection& c);
  void read_on(Connection& c, size_t budget);
  bool take_read_result(Connection& c, ssize_t result, size_t asked, std::span<const uint8_t> bytes);
  bool can_read(const Connection& c) const;
  void deliver(Connection& c, std::span<const uint8_t> bytes);
  void on_peer_eof(Connection& c);
  void write_out(Connection& c);
  void write_queued(Connection& c);
  bool take_write_result(Connection& c, ssize_t result, size_t asked);
  void finish_close_after_flush(Connection& c);
  void expire_close(ConnectionId id);
  void fail_io(Connection& c, std::string_view operation, int error);
  void finalize(Connection& c, std::string_view why, bool notify);
  void mark_dirty(Connection& c);
  void queue_read_backlog(Connection& c);
  void count_open_connections(int delta);

  // worker_batch.cpp: several sockets' reads or writes in one io_uring call
  struct BatchedRead {
    ConnectionId id;
    size_t offset, length;  // the slice of batch_buffer_
  };
  struct BatchedWrite {
    static constexpr int kMaxIovecs = 16;
    ConnectionId id;
    size_t length;
    msghdr message;
    iovec iov[kMaxIovecs];
  };
  void start_batching();
  bool batching(size_t sockets) const { return ring_ != nullptr && sockets >= 2; }
  void read_in_batches(const std::vector<ConnectionId>& ids);
  size_t batched_read_length(const Connection& c) const;
  void finish_read_batch();
  void write_in_batches(const std::vector<Connection*>& connections);
  void finish_write_batch();

  // worker_transport.cpp: connections with transports
  void attach_transports(Connection& c, const std::shared_ptr<const TransportStack>& transports,
                         const PeerAddress& peer);
  void deliver_through_transports(Connection& c, std::span<const uint8_t> bytes);
  void announce_peer(Connection& c);
  void seal_transport_output(Connection& c);
  void end_by_transport(Connection& c, const TransportEnd& end);
  void expire_handshake(ConnectionId id);

  const int index_;
  ConnectionHandler& handler_;
  const WorkerOptions options_;
  int epoll_fd_ = -1;
  TaskQueue tasks_;
  TimerQueue timers_;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::atomic<std::thread::id> loop_thread_{};
  std::atomic<int> thread_tid_{0};
  std::atomic<bool> parked_{false};
  TimePoint now_;
  uint64_t turn_ = 1;          // Connection::last_read_turn starts at 0 = never
  bool waking_often_ = false;  // the last sleep ended within wakeup_coalescing
  PausePolicy pauses_;

  std::vector<epoll_event> events_;
  std::vector<uint8_t> read_buffer_;
  TransportScratch transport_scratch_;
  // By connection_slot(); null where the slot is free or another worker's.
  std::vector<std::unique_ptr<Connection>> connections_;
  std::vector<std::unique_ptr<Connection>> graveyard_;  // closed this turn, freed at its end
  std::vector<Connection*> dirty_, flushing_;
  std::vector<ConnectionId> read_backlog_, backlog_batch_;
  std::vector<ConnectionId> ready_to_read_;  // this turn's readable sockets, in event order
  std::unique_ptr<IoRing> ring_;             // made on the worker's thread; null: one system call per socket
  std::vector<uint8_t> batch_buffer_;
  std::vector<BatchedRead> batched_reads_;
  std::vector<BatchedWrite>
      batched_writes_;  // never grows past ring_->capacity(): the kernel holds pointers into it
  std::vector<std::function<void()>> task_batch_;
  std::vector<Listener> listeners_;
  std::atomic<size_t> open_connections_{0};
  std::atomic<size_t> incoming_{0};  // handed over by a peer, not yet opened
  std::vector<Worker*> peers_;
  Counters counters_;
};

}  // namespace stellwerk::net

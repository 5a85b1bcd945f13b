// Worker: lifetime, the loop turn, posted tasks and timers. Connection I/O is
// in worker_io.cpp, listeners in worker_accept.cpp; worker.h explains a turn.
#include "net/worker.h"

#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>

#include "base/log.h"
#include "base/thread_load.h"
#include "base/thread_name.h"
#include "net/connection.h"

namespace stellwerk::net {

Worker::Worker(int index, ConnectionHandler& handler, WorkerOptions options)
    : index_(index),
      handler_(handler),
      options_(options),
      epoll_fd_(::epoll_create1(EPOLL_CLOEXEC)),
      now_(Clock::now()),
      pauses_(options.pause_from_busy_share),
      events_(static_cast<size_t>(std::max(1, options.max_events_per_wait))),
      read_buffer_(std::max<size_t>(1, options.read_buffer_bytes)) {
  if (epoll_fd_ < 0) {
    log::error("worker {}: epoll_create1 failed: {}", index_, std::strerror(errno));
    std::abort();
  }
  epoll_event wake{};
  wake.events = EPOLLIN | EPOLLET;  // never read: see task_queue.h
  wake.data.u64 = kWakeTag;
  if (::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, tasks_.event_fd(), &wake) != 0) {
    log::error("worker {}: cannot watch the task eventfd: {}", index_, std::strerror(errno));
    std::abort();
  }
}

Worker::~Worker() {
  request_stop();
  join();
  for (auto& c : connections_) {
    if (!c) continue;
    ::close(c->fd);
    release_id(c->id);
  }
  ::close(epoll_fd_);
}

void Worker::start() {
  std::latch set_up(1);
  thread_ = std::thread([this, &set_up] { run(set_up); });
  set_up.wait();
}

void Worker::request_stop() {
  stop_.store(true, std::memory_order_release);
  tasks_.wake();
}

void Worker::join() {
  if (thread_.joinable() && thread_.get_id() != std::this_thread::get_id()) thread_.join();
}

void Worker::post(std::function<void()> task) {
  bool was_empty = tasks_.push(std::move(task));
  // A non-empty queue means a wake-up is already on its way, and the loop
  // looks at the queue before it sleeps, so its own posts need none.
  if (!was_empty || in_worker_thread()) return;
  tasks_.wake();
  counters_.wakeups.fetch_add(1, std::memory_order_relaxed);
}

bool Worker::in_worker_thread() const {
  return loop_thread_.load(std::memory_order_relaxed) == std::this_thread::get_id();
}

size_t Worker::connection_count() const { return open_connections_.load(std::memory_order_relaxed); }

void Worker::count_open_connections(int delta) {
  size_t now_open = open_connections_.load(std::memory_order_relaxed) + static_cast<size_t>(delta);
  open_connections_.store(now_open, std::memory_order_relaxed);
}

WorkerStats Worker::stats() const {
  auto read = [](const std::atomic<uint64_t>& counter) { return counter.load(std::memory_order_relaxed); };
  WorkerStats s;
  s.loop_turns = read(counters_.loop_turns);
  s.reads = read(counters_.reads);
  s.bytes_read = read(counters_.bytes_read);
  s.writes = read(counters_.writes);
  s.batches = read(counters_.batches);
  s.bytes_written = read(counters_.bytes_written);
  s.write_blocks = read(counters_.write_blocks);
  s.accepts = read(counters_.accepts);
  s.accept_pauses = read(counters_.accept_pauses);
  s.wakeups = read(counters_.wakeups);
  s.tasks_run = read(counters_.tasks_run);
  s.timers_fired = read(counters_.timers_fired);
  s.pauses = read(counters_.pauses);
  s.transport_failures = read(counters_.transport_failures);
  return s;
}

Worker::TimerId Worker::schedule(TimePoint when, std::function<void()> fn) {
  return timers_.add(when, std::move(fn));
}

void Worker::cancel(TimerId id) { timers_.cancel(id); }

void Worker::run(std::latch& set_up) {
  loop_thread_.store(std::this_thread::get_id(), std::memory_order_relaxed);
  thread_tid_.store(base::this_thread_tid(), std::memory_order_relaxed);
  name_this_thread("sw-worker-" + std::to_string(index_));
  if (options_.batch_system_calls) start_batching();  // on this thread: the ring serves only it
  set_up.count_down();                                // `set_up` is gone once start() returns
  log::debug("worker {} running", index_);
  while (!stop_.load(std::memory_order_acquire)) run_turn();
  loop_thread_.store(std::thread::id{}, std::memory_order_relaxed);
  log::debug("worker {} stopped", index_);
}

void Worker::run_turn() {
  int ready = wait_for_events();
  bump(counters_.loop_turns);
  ++turn_;
  now_ = Clock::now();
  continue_backlogged_reads();  // first, so these sockets do not get two budgets this turn
  for (int i = 0; i < ready; ++i) dispatch(events_[static_cast<size_t>(i)]);
  read_ready_sockets();
  bump(counters_.timers_fired, timers_.run_due(now_));
  run_posted_tasks();
  handler_.on_turn_end(*this);
  flush_dirty();
  graveyard_.clear();
}

// Every sleep and wake-up costs the kernel far more than a read or write
// (docs/performance.md, slow clients), and a worker serving many clients
// that each send now and then would otherwise sleep and wake for nearly
// every message. So once it wakes often, a busy enough worker (PausePolicy)
// that finds nothing to do pauses for wakeup_coalescing first and then takes
// everything that arrived meanwhile in one turn. A worker with work waiting
// never pauses (the first look finds it), and a pause that brings nothing
// ends the pausing until the worker again wakes within wakeup_coalescing of
// going to sleep. So only a steady trickle of input waits, and by at most
// wakeup_coalescing.
int Worker::wait_for_events() {
  int timeout_ms = wait_timeout_ms();
  if (timeout_ms == 0 || options_.wakeup_coalescing <= Duration::zero()) return wait_once(timeout_ms);
  TimePoint looked_at = Clock::now();
  if (pauses_.pays(looked_at) && waking_often_) {
    if (int ready = wait_once(0); ready > 0) return ready;
    pause_before_sleeping();
    const TimePoint paused_until = Clock::now();
    pauses_.add_sleep(paused_until - looked_at);
    if (int ready = wait_once(0); ready > 0) return ready;
    int ready = sleep_until_events(wait_timeout_ms(), paused_until).ready;
    waking_often_ = false;
    return ready;
  }
  Slept slept = sleep_until_events(timeout_ms, looked_at);
  waking_often_ = slept.asleep < options_.wakeup_coalescing;
  return slept.ready;
}

// epoll_wait that tells the pause policy how long it slept, counted from
// `asleep_from`, the caller's last reading of the clock.
Worker::Slept Worker::sleep_until_events(int timeout_ms, TimePoint asleep_from) {
  int ready = wait_once(timeout_ms);
  Duration asleep = Clock::now() - asleep_from;
  pauses_.add_sleep(asleep);
  return {ready, asleep};
}

int Worker::wait_once(int timeout_ms) {
  int ready = ::epoll_wait(epoll_fd_, events_.data(), static_cast<int>(events_.size()), timeout_ms);
  if (ready >= 0) return ready;
  if (errno != EINTR) log::error("worker {}: epoll_wait: {}", index_, std::strerror(errno));
  return 0;
}

// Sleeps wakeup_coalescing, or less when a timer falls due sooner.
void Worker::pause_before_sleeping() {
  Duration pause = options_.wakeup_coalescing;
  if (std::optional<TimePoint> next = timers_.next_deadline()) pause = std::min(pause, *next - Clock::now());
  if (pause <= Duration::zero()) return;
  bump(counters_.pauses);
  auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(pause).count();
  timespec length{static_cast<time_t>(ns / 1'000'000'000), static_cast<long>(ns % 1'000'000'000)};
  ::nanosleep(&length, nullptr);
}

// Milliseconds epoll_wait may sleep: 0 while work is waiting, -1 with no
// timer, else until the next deadline rounded up (waking early would only
// find nothing due and spin).
int Worker::wait_timeout_ms() {
  if (stop_.load(std::memory_order_relaxed)) return 0;
  if (!read_backlog_.empty() || !tasks_.empty()) return 0;
  std::optional<TimePoint> next = timers_.next_deadline();
  if (!next) return -1;
  Duration left = *next - Clock::now();
  if (left <= Duration::zero()) return 0;
  int64_t ms = std::chrono::ceil<std::chrono::milliseconds>(left).count();
  return static_cast<int>(std::min<int64_t>(ms, INT_MAX));
}

void Worker::dispatch(const epoll_event& event) {
  uint64_t tag = event.data.u64;
  if (tag == kWakeTag) return;  // posted tasks are drained every turn anyway
  if ((tag & kSpecialTagBit) != 0) {
    size_t slot = static_cast<size_t>(tag & ~kSpecialTagBit) - 1;
    if (slot < listeners_.size() && listeners_[slot].in_epoll) accept_from(slot);
    return;
  }
  // A miss is an event for a connection closed earlier in this batch.
  if (Connection* c = find(tag)) on_connection_event(*c, event.events);
}

void Worker::continue_backlogged_reads() {
  backlog_batch_.swap(read_backlog_);
  for (ConnectionId id : backlog_batch_) {
    Connection* c = find(id);
    if (c == nullptr) continue;
    c->in_read_backlog = false;
    read_from(*c);
  }
  backlog_batch_.clear();
}

void Worker::run_posted_tasks() {
  tasks_.take_all(task_batch_);
  for (std::function<void()>& task : task_batch_) task();
  bump(counters_.tasks_run, task_batch_.size());
  task_batch_.clear();
}

void Worker::flush_dirty() {
  // A failed write ends a connection and on_close may queue output for
  // others, so repeat until a pass makes nothing new dirty.
  while (!dirty_.empty()) {
    flushing_.swap(dirty_);
    if (batching(flushing_.size())) {
      write_in_batches(flushing_);
    } else {
      for (Connection* c : flushing_) {
        c->in_dirty_list = false;
        if (c->state != ConnectionState::dead) write_out(*c);
      }
    }
    flushing_.clear();
  }
}

}  // namespace stellwerk::net

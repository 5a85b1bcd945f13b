// The queue through which other threads hand work to one worker.
//
// Many producers, one consumer. Producers append under a mutex; the consumer
// swaps the whole vector out once per loop turn, so a batch of N tasks costs
// one lock on its side. Wake-ups are coalesced: only the push that finds the
// queue empty asks for an eventfd write, because while the queue is non-empty
// the consumer has been (or is being) woken already and will drain everything.
//
// The eventfd is registered edge-triggered and never read: every write is a
// new edge, and the 64-bit counter cannot realistically fill up. That saves
// the consumer one read() per wake-up.
#pragma once

#include <functional>
#include <mutex>
#include <vector>

namespace stellwerk::net {

class TaskQueue {
 public:
  TaskQueue();  // aborts the process if no eventfd can be made (fd exhaustion at start-up)
  ~TaskQueue();
  TaskQueue(const TaskQueue&) = delete;
  TaskQueue& operator=(const TaskQueue&) = delete;

  int event_fd() const { return event_fd_; }

  // Any thread. Returns true if the queue was empty before, i.e. the caller
  // must wake() the consumer unless it is the consumer itself.
  [[nodiscard]] bool push(std::function<void()> task);

  // Any thread: makes the consumer's epoll_wait return.
  void wake();

  // Consumer: moves every queued task into `out` (which must be empty).
  void take_all(std::vector<std::function<void()>>& out);

  bool empty() const;

 private:
  int event_fd_ = -1;
  mutable std::mutex mutex_;
  std::vector<std::function<void()>> tasks_;  // guarded by mutex_
};

}  // namespace stellwerk::net

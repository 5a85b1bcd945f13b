// TaskQueue: see task_queue.h.
#include "net/task_queue.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "base/log.h"

namespace stellwerk::net {

TaskQueue::TaskQueue() : event_fd_(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {
  if (event_fd_ < 0) {
    log::error("eventfd failed: {}", std::strerror(errno));
    std::abort();
  }
}

TaskQueue::~TaskQueue() { ::close(event_fd_); }

bool TaskQueue::push(std::function<void()> task) {
  std::lock_guard lock(mutex_);
  bool was_empty = tasks_.empty();
  tasks_.push_back(std::move(task));
  return was_empty;
}

void TaskQueue::wake() {
  uint64_t one = 1;
  // EAGAIN would mean the counter is full, which also means a wake-up is pending.
  [[maybe_unused]] ssize_t n = ::write(event_fd_, &one, sizeof one);
}

void TaskQueue::take_all(std::vector<std::function<void()>>& out) {
  std::lock_guard lock(mutex_);
  out.swap(tasks_);
}

bool TaskQueue::empty() const {
  std::lock_guard lock(mutex_);
  return tasks_.empty();
}

}  // namespace stellwerk::net

// TimerQueue: see timer_queue.h.
#include "net/timer_queue.h"

#include <algorithm>

namespace stellwerk::net {

// Rebuilding a small heap is not worth it; this keeps compaction amortised.
constexpr size_t kCompactionSlack = 64;

bool TimerQueue::later(const Entry& a, const Entry& b) {
  if (a.when != b.when) return a.when > b.when;
  return a.id > b.id;
}

TimerId TimerQueue::add(TimePoint when, std::function<void()> fn) {
  TimerId id = next_id_++;
  callbacks_.emplace(id, std::move(fn));
  heap_.push_back(Entry{when, id});
  std::push_heap(heap_.begin(), heap_.end(), later);
  return id;
}

void TimerQueue::cancel(TimerId id) {
  if (callbacks_.erase(id) == 0) return;
  compact_if_mostly_dead();
}

std::optional<TimePoint> TimerQueue::next_deadline() {
  drop_dead_top();
  if (heap_.empty()) return std::nullopt;
  return heap_.front().when;
}

size_t TimerQueue::run_due(TimePoint now) {
  due_.clear();
  while (!heap_.empty() && heap_.front().when <= now) {
    due_.push_back(heap_.front().id);
    std::pop_heap(heap_.begin(), heap_.end(), later);
    heap_.pop_back();
  }
  size_t ran = 0;
  // Index loop: a callback may not touch due_, but it may cancel ids in it.
  for (size_t i = 0; i < due_.size(); ++i) {
    auto it = callbacks_.find(due_[i]);
    if (it == callbacks_.end()) continue;  // cancelled
    std::function<void()> fn = std::move(it.value());
    callbacks_.erase(it);
    fn();
    ++ran;
  }
  return ran;
}

void TimerQueue::drop_dead_top() {
  while (!heap_.empty() && !callbacks_.contains(heap_.front().id)) {
    std::pop_heap(heap_.begin(), heap_.end(), later);
    heap_.pop_back();
  }
}

void TimerQueue::compact_if_mostly_dead() {
  if (heap_.size() <= 2 * callbacks_.size() + kCompactionSlack) return;
  std::erase_if(heap_, [this](const Entry& e) { return !callbacks_.contains(e.id); });
  std::make_heap(heap_.begin(), heap_.end(), later);
}

}  // namespace stellwerk::net

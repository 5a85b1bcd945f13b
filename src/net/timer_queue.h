// One-shot timers for one event loop.
//
// A binary min-heap of (deadline, id) beside a hash map from id to callback.
// cancel() only erases the callback, so it is O(1); the heap entry left behind
// is skipped when it reaches the top. Keep-alive timers are re-armed on every
// packet, which would let such dead entries pile up, so the heap is rebuilt
// without them whenever they outnumber the live timers.
#pragma once

#include <tsl/robin_map.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <vector>

#include "base/clock.h"

namespace stellwerk::net {

using TimerId = uint64_t;  // never 0, so 0 can mean "no timer"

class TimerQueue {
 public:
  TimerId add(TimePoint when, std::function<void()> fn);
  // Cancelling a timer that fired or was cancelled already is a no-op.
  void cancel(TimerId id);

  // The earliest deadline of a live timer, if any.
  std::optional<TimePoint> next_deadline();

  // Runs every timer due at `now` in deadline order (equal deadlines in the
  // order they were added) and returns how many ran. Timers added by these
  // callbacks wait for the next call, so a callback that re-arms itself for
  // `now` cannot spin; a callback may cancel timers that have not run yet.
  size_t run_due(TimePoint now);

  size_t size() const { return callbacks_.size(); }

 private:
  struct Entry {
    TimePoint when;
    TimerId id;
  };
  static bool later(const Entry& a, const Entry& b);
  void drop_dead_top();
  void compact_if_mostly_dead();

  std::vector<Entry> heap_;
  tsl::robin_map<TimerId, std::function<void()>> callbacks_;
  std::vector<TimerId> due_;  // reused by run_due
  TimerId next_id_ = 1;
};

}  // namespace stellwerk::net

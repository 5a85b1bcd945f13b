#pragma once
// When a worker's pause before sleeping (WorkerOptions::wakeup_coalescing)
// pays. A pause makes the messages that arrive during it wait, and saves the
// CPU of waking up for each of them. That CPU is worth saving only while the
// worker has little to spare: a worker that is asleep most of the time loses
// latency and gains nothing it would use. So the worker pauses only while it
// was busy (awake, working or waiting for a core) for a good share of the
// last window. Pausing makes it look less busy, since its pauses count as
// sleep, so it stops at a lower share than it starts at.
// docs/performance.md ("Fewer wake-ups") has the figures behind the shares.

#include "base/clock.h"

namespace stellwerk::net {

class PausePolicy {
 public:
  static constexpr Duration kWindow = milliseconds(100);
  static constexpr double kStartAtBusyShare = 0.45;
  // Below start_at, so that the pauses' own saving does not end them.
  static constexpr double kStopShareOfStart = 2.0 / 3.0;

  // start_at_busy_share 0: pause whenever the worker wakes often.
  explicit PausePolicy(double start_at_busy_share = kStartAtBusyShare)
      : start_at_(start_at_busy_share),
        stop_below_(start_at_busy_share * kStopShareOfStart),
        pays_(start_at_busy_share <= 0) {}

  // Time the worker spent in epoll_wait or a pause.
  void add_sleep(Duration asleep) { asleep_ += asleep; }

  // Whether to pause now; decided anew once per window.
  bool pays(TimePoint now);

 private:
  double start_at_;
  double stop_below_;
  TimePoint window_start_{};
  Duration asleep_{};
  bool pays_;
};

}  // namespace stellwerk::net

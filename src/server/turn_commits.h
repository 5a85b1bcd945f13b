// Which broker calls may leave their store records for the end of their
// worker's loop turn, so that a busy turn commits once instead of once per
// call: one group for the store thread to write, one wake-up each way
// (docs/design/threading.md, "Nothing acknowledged leaves before it is
// durable").
//
// A worker's turn ends with Server::on_turn_end, which commits what the
// turn's calls deferred. Calls with no turn end ahead of them commit at once:
// those from other threads (timers, admin, password checks, shutdown) and
// those a worker makes after on_turn_end (a failed write's on_close, during
// the writes that end the turn). A turn is known by its time,
// net::Worker::now(), read once per turn; were two turns to read the same
// time, the second's calls would merely commit at once.
//
// Each worker's entry is touched only by that worker's thread.
#pragma once

#include <cstddef>
#include <vector>

#include "base/clock.h"

namespace stellwerk::server {

class TurnCommits {
 public:
  explicit TurnCommits(size_t workers = 0) : workers_(workers) {}

  // A broker call by worker `worker` during its turn of time `turn`: true when
  // its records may wait for the end of that turn, which then commits them.
  bool defer(size_t worker, TimePoint turn) {
    Entry& entry = workers_[worker];
    if (entry.ended == turn) return false;  // past on_turn_end: nothing commits after
    entry.pending = true;
    return true;
  }

  // Worker `worker`'s turn of time `turn` ends: true when a call of the turn
  // deferred its records, which must be committed now.
  bool end_turn(size_t worker, TimePoint turn) {
    Entry& entry = workers_[worker];
    entry.ended = turn;
    const bool pending = entry.pending;
    entry.pending = false;
    return pending;
  }

 private:
  // One cache line each: workers update theirs on every broker call.
  struct alignas(64) Entry {
    TimePoint ended{};
    bool pending = false;
  };
  std::vector<Entry> workers_;
};

}  // namespace stellwerk::server

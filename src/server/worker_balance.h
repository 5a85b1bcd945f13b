// How many workers take connections, decided by trial
// (docs/design/worker-balance.md).
//
// A second worker pays only when there is a core for it. When the machine's
// cores are already busy (a load generator, a database or other brokers on
// the same machine), a worker that waits for a core adds no CPU: it only
// splits every loop turn's batch in two and adds hand-overs between threads.
// Nor does one pay when the work would fit on fewer workers: every message
// that crosses between workers then costs a hand-over and a wake-up that one
// worker would not make, and a client waiting for its answer waits for them.
// The server samples each worker's CPU time and run-queue wait a few times a
// second. When the active workers wait for a core, or their CPU time would
// fit on one worker fewer, the policy tries one worker fewer (the server
// parks it: it moves its connections to the others and takes no new ones),
// and keeps the change only if the broker then moves nearly as many bytes
// (within 5 %). When the remaining workers are saturated, it tries
// one more in the same way. Each trial is followed by a hold that doubles, so
// a machine whose load keeps changing is not chased.
//
// Pure policy: it sees samples and answers with a step; the server carries
// the step out (rebalance.cpp). Workers 0 .. active()-1 are active.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "base/clock.h"

namespace stellwerk::server {

struct WorkerLoad {
  uint64_t cpu_ns = 0;   // on a core, so far
  uint64_t wait_ns = 0;  // runnable but waiting for a core, so far
};

struct BalanceSample {
  TimePoint at{};
  std::vector<WorkerLoad> workers;  // one per worker, by index
  uint64_t bytes = 0;               // read and written by every worker, so far
};

enum class BalanceStep { none, park, unpark };
enum class BalanceReason { none, short_of_cores, fits_on_fewer, saturated, trial_lost };

struct BalanceDecision {
  BalanceStep step = BalanceStep::none;
  size_t worker = 0;
  BalanceReason why = BalanceReason::none;
  // For the log: the figure that started a trial (cores waited for, or mean
  // CPU use), or a lost trial's byte rates before and during it.
  double figure = 0;
  double before = 0;
};

class WorkerBalance {
 public:
  // Only a sustained pattern starts a trial: this many windows in a row.
  static constexpr int kPatternWindows = 3;
  // After a step, windows not counted while connections move and settle.
  static constexpr int kSettleWindows = 2;
  // Windows whose byte rate is compared with the windows before the step.
  static constexpr int kTrialWindows = 4;
  // The active workers' run-queue wait, as a share of one core, above which
  // they are taken to be short of cores.
  static constexpr double kShortOfCores = 0.10;
  // The active workers' summed CPU use, as a share of a core per worker
  // that would remain, at or below which one worker fewer might do the same
  // work (with two workers: both together use at most 0.9 of a core).
  static constexpr double kFitsOnFewer = 0.9;
  // The active workers' mean CPU use, as a share of a core, above which one
  // more worker might help.
  static constexpr double kSaturated = 0.85;
  // Ties go to fewer workers, which use less CPU and hand nothing over
  // between threads for the same work. So a trial with one more worker must
  // move this much more than before to be kept, and one with a worker fewer
  // is kept unless it moves less than this share of before. A second's rate
  // on a shared machine moves by a few percent by itself.
  static constexpr double kMoreMustGain = 1.05;
  static constexpr double kFewerMayLose = 0.95;
  // Below this many bytes a second, balance does not matter.
  static constexpr double kMinimumBytesPerSecond = 1e6;
  static constexpr Duration kFirstHold = std::chrono::seconds(10);
  // A trial lost once is tried again after this short hold: a second's rate
  // on a shared machine can mislead, e.g. while the scheduler runs the one
  // remaining worker on the same core as the program it serves. A second
  // loss in a row holds as any trial does.
  static constexpr Duration kRetryHold = std::chrono::seconds(1);
  static constexpr int kMaxHoldDoublings = 5;

  explicit WorkerBalance(size_t workers) : workers_(workers), active_(workers) {}

  // One sample a few times a second; the first only sets the starting point.
  BalanceDecision review(const BalanceSample& sample);
  size_t active() const { return active_; }

  struct Window {
    double bytes_per_second = 0;
    double wait_share = 0;  // summed over the active workers, in cores
    double busy = 0;        // summed over the active workers, in cores
    double mean_busy = 0;   // over the active workers, in cores
  };
  const Window& last_window() const { return window_; }  // for the debug log

 private:
  enum class State { steady, fewer_on_trial, more_on_trial };
  Window window_between(const BalanceSample& before, const BalanceSample& after) const;
  BalanceDecision review_steady(const Window& window, TimePoint now);
  BalanceDecision review_trial(const Window& window, TimePoint now);
  BalanceDecision start_trial(State trial, BalanceDecision step);
  BalanceDecision end_trial(double trial_rate, TimePoint now);
  void count_pattern(const Window& window);
  BalanceReason fewer_might_do(const Window& window) const;
  double recent_mean() const;

  size_t workers_;
  size_t active_;
  State state_ = State::steady;
  BalanceSample last_;
  bool have_last_ = false;
  Window window_;
  // Steady: consecutive windows in which one worker fewer might do (short
  // of cores, or the work fits), or saturated, and the byte rates of the last
  // few windows (the pattern's, once it is long enough).
  int fewer_windows_ = 0;
  BalanceReason fewer_why_ = BalanceReason::none;
  int saturated_windows_ = 0;
  std::array<double, kPatternWindows> recent_{};
  size_t recent_next_ = 0;
  // On trial: windows since the step, the rate before it, the trial's rates so far.
  int trial_windows_ = 0;
  double baseline_ = 0;
  double trial_sum_ = 0;
  int trials_ = 0;
  int lost_in_a_row_ = 0;
  TimePoint hold_until_{};
};

}  // namespace stellwerk::server

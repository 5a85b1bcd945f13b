// How many workers take connections (server/worker_balance.h): one fewer is
// tried when the active workers wait for cores or their work would fit on
// fewer, one more when they are saturated, and a trial is kept only when the broker moves as many bytes.
#include "server/worker_balance.h"

#include <gtest/gtest.h>

namespace stellwerk::server {
namespace {

constexpr auto kWindow = std::chrono::milliseconds(250);

// Feeds the policy windows of a given shape: per worker, the share of a core
// it ran and waited, and the bytes per second all workers moved.
class Machine {
 public:
  explicit Machine(size_t workers) : balance_(workers), sample_{.workers = std::vector<WorkerLoad>(workers)} {
    balance_.review(sample_);
  }

  BalanceDecision window(double busy, double wait, double bytes_per_second) {
    sample_.at += kWindow;
    const double seconds = std::chrono::duration<double>(kWindow).count();
    for (WorkerLoad& load : sample_.workers) {
      load.cpu_ns += static_cast<uint64_t>(busy * seconds * 1e9);
      load.wait_ns += static_cast<uint64_t>(wait * seconds * 1e9);
    }
    sample_.bytes += static_cast<uint64_t>(bytes_per_second * seconds);
    return balance_.review(sample_);
  }

  // Windows of one shape until the policy takes a step (or `limit` pass).
  BalanceDecision until_step(double busy, double wait, double bytes_per_second, int limit = 200) {
    for (int i = 0; i < limit; ++i) {
      const BalanceDecision decision = window(busy, wait, bytes_per_second);
      if (decision.step != BalanceStep::none) return decision;
    }
    return {};
  }

  // A trial's settling and measured windows, all at one rate.
  BalanceDecision trial(double busy, double wait, double bytes_per_second) {
    BalanceDecision last;
    for (int i = 0; i < WorkerBalance::kSettleWindows + WorkerBalance::kTrialWindows; ++i) {
      last = window(busy, wait, bytes_per_second);
      if (i + 1 < WorkerBalance::kSettleWindows + WorkerBalance::kTrialWindows) {
        EXPECT_EQ(last.step, BalanceStep::none) << "a step in the middle of a trial";
      }
    }
    return last;
  }

  const WorkerBalance& balance() const { return balance_; }

 private:
  WorkerBalance balance_;
  BalanceSample sample_;
};

TEST(WorkerBalanceTest, WorkersThatHaveCoresStayActive) {
  Machine machine(2);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(machine.window(0.95, 0.01, 50e6).step, BalanceStep::none);
  EXPECT_EQ(machine.balance().active(), 2u);
}

TEST(WorkerBalanceTest, WorkersShortOfCoresTryOneFewerAndKeepItWhenItMovesAsMuch) {
  Machine machine(2);
  for (int i = 1; i < WorkerBalance::kPatternWindows; ++i) {
    EXPECT_EQ(machine.window(0.6, 0.3, 50e6).step, BalanceStep::none) << "one window is no pattern";
  }
  const BalanceDecision park = machine.window(0.6, 0.3, 50e6);
  EXPECT_EQ(park.step, BalanceStep::park);
  EXPECT_EQ(park.worker, 1u);
  EXPECT_EQ(park.why, BalanceReason::short_of_cores);
  EXPECT_EQ(machine.balance().active(), 1u);
  EXPECT_EQ(machine.trial(0.95, 0.0, 55e6).step, BalanceStep::none);
  EXPECT_EQ(machine.balance().active(), 1u);
}

TEST(WorkerBalanceTest, AWorkerFewerThatMovesNearlyAsMuchIsKept) {
  Machine machine(2);
  ASSERT_EQ(machine.until_step(0.6, 0.3, 50e6).step, BalanceStep::park);
  EXPECT_EQ(machine.trial(0.95, 0.0, 48e6).step, BalanceStep::none);
  EXPECT_EQ(machine.balance().active(), 1u);
}

TEST(WorkerBalanceTest, ATrialThatMovesLessIsUndone) {
  Machine machine(2);
  ASSERT_EQ(machine.until_step(0.6, 0.3, 50e6).step, BalanceStep::park);
  const BalanceDecision undo = machine.trial(0.95, 0.0, 46e6);
  EXPECT_EQ(undo.step, BalanceStep::unpark);
  EXPECT_EQ(undo.worker, 1u);
  EXPECT_EQ(undo.why, BalanceReason::trial_lost);
  EXPECT_DOUBLE_EQ(undo.before, 50e6);
  EXPECT_EQ(machine.balance().active(), 2u);
}

TEST(WorkerBalanceTest, ALostTrialIsTriedOnceMoreSoonThenHoldsDouble) {
  // The same losing trial, again and again: the first loss is tried again
  // after a short hold, then each hold is twice the last, up to a limit, so
  // a machine whose load keeps changing is not chased.
  Machine machine(2);
  const int hold_windows = static_cast<int>(WorkerBalance::kFirstHold / kWindow);
  const int retry_windows = static_cast<int>(WorkerBalance::kRetryHold / kWindow);
  std::vector<int> windows_before_trial;
  for (int trial = 0; trial < 4; ++trial) {
    int windows = 1;
    while (machine.window(0.6, 0.3, 50e6).step == BalanceStep::none) ++windows;
    windows_before_trial.push_back(windows);
    ASSERT_EQ(machine.trial(0.95, 0.0, 40e6).step, BalanceStep::unpark);
  }
  EXPECT_EQ(windows_before_trial[0], WorkerBalance::kPatternWindows);
  EXPECT_GE(windows_before_trial[1], retry_windows);
  EXPECT_LE(windows_before_trial[1], retry_windows + WorkerBalance::kPatternWindows + 1);
  EXPECT_GE(windows_before_trial[2], 2 * hold_windows);
  EXPECT_GE(windows_before_trial[3], 4 * hold_windows);
  EXPECT_LT(windows_before_trial[3], 5 * hold_windows);
}

TEST(WorkerBalanceTest, AKeptTrialMakesTheNextLossOneToRetry) {
  Machine machine(2);
  ASSERT_EQ(machine.until_step(0.6, 0.3, 50e6).step, BalanceStep::park);
  ASSERT_EQ(machine.trial(0.95, 0.0, 40e6).step, BalanceStep::unpark);  // lost once
  ASSERT_EQ(machine.until_step(0.6, 0.3, 50e6).step, BalanceStep::park);
  ASSERT_EQ(machine.trial(0.95, 0.0, 50e6).step, BalanceStep::none);  // kept
  ASSERT_EQ(machine.until_step(0.95, 0.0, 50e6).step, BalanceStep::unpark);
  ASSERT_EQ(machine.trial(0.6, 0.3, 50e6).step, BalanceStep::park);  // lost: tried again soon
  int windows = 1;
  while (machine.window(0.95, 0.0, 50e6).step == BalanceStep::none) ++windows;
  EXPECT_LE(windows,
            static_cast<int>(WorkerBalance::kRetryHold / kWindow) + WorkerBalance::kPatternWindows + 1);
}

TEST(WorkerBalanceTest, SaturatedWorkersTryOneMoreAndKeepItOnlyWhenItGains) {
  Machine machine(2);
  ASSERT_EQ(machine.until_step(0.6, 0.3, 50e6).step, BalanceStep::park);
  ASSERT_EQ(machine.trial(0.95, 0.0, 60e6).step, BalanceStep::none);
  // One worker, saturated, after the hold: one more is tried.
  const BalanceDecision unpark = machine.until_step(0.95, 0.0, 60e6);
  EXPECT_EQ(unpark.step, BalanceStep::unpark);
  EXPECT_EQ(unpark.worker, 1u);
  EXPECT_EQ(unpark.why, BalanceReason::saturated);
  // Two workers that only tie go back to one.
  const BalanceDecision repark = machine.trial(0.9, 0.0, 61e6);
  EXPECT_EQ(repark.step, BalanceStep::park);
  EXPECT_EQ(machine.balance().active(), 1u);
  // The next time, two workers that gain stay.
  ASSERT_EQ(machine.until_step(0.95, 0.0, 60e6).step, BalanceStep::unpark);
  EXPECT_EQ(machine.trial(0.9, 0.0, 90e6).step, BalanceStep::none);
  EXPECT_EQ(machine.balance().active(), 2u);
}

TEST(WorkerBalanceTest, WorkThatFitsOnOneWorkerFewerIsTriedThere) {
  Machine machine(2);
  const BalanceDecision park = machine.until_step(0.4, 0.0, 50e6);  // 0.8 of a core in all
  EXPECT_EQ(park.step, BalanceStep::park);
  EXPECT_EQ(park.worker, 1u);
  EXPECT_EQ(park.why, BalanceReason::fits_on_fewer);
  EXPECT_NEAR(park.figure, 0.8, 0.01);
  EXPECT_EQ(machine.trial(0.85, 0.0, 50e6).step, BalanceStep::none);
  EXPECT_EQ(machine.balance().active(), 1u);
}

TEST(WorkerBalanceTest, WorkThatNeedsEveryWorkerStartsNoTrial) {
  Machine machine(2);
  EXPECT_EQ(machine.until_step(0.5, 0.0, 50e6).step, BalanceStep::none);  // a whole core in all
  Machine three(3);
  EXPECT_EQ(three.until_step(0.65, 0.0, 50e6).step, BalanceStep::none);  // 1.95 > 2 x 0.9
  const BalanceDecision park = three.until_step(0.55, 0.0, 50e6);        // 1.65 fits on two
  EXPECT_EQ(park.step, BalanceStep::park);
  EXPECT_EQ(park.worker, 2u);
}

TEST(WorkerBalanceTest, LittleTrafficStartsNoTrial) {
  Machine machine(2);
  EXPECT_EQ(machine.until_step(0.2, 0.5, 0.5e6).step, BalanceStep::none);
  EXPECT_EQ(machine.balance().active(), 2u);
}

TEST(WorkerBalanceTest, OneWorkerNeverSteps) {
  Machine machine(1);
  EXPECT_EQ(machine.until_step(1.0, 0.9, 50e6).step, BalanceStep::none);
}

TEST(WorkerBalanceTest, ThreeWorkersShortOfCoresParkTheHighestFirst) {
  Machine machine(3);
  const BalanceDecision first = machine.until_step(0.6, 0.3, 50e6);
  EXPECT_EQ(first.step, BalanceStep::park);
  EXPECT_EQ(first.worker, 2u);
  ASSERT_EQ(machine.trial(0.7, 0.3, 55e6).step, BalanceStep::none);
  const BalanceDecision second = machine.until_step(0.7, 0.3, 55e6);
  EXPECT_EQ(second.step, BalanceStep::park);
  EXPECT_EQ(second.worker, 1u);
}

}  // namespace
}  // namespace stellwerk::server

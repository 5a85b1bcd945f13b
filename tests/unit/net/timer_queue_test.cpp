// TimerQueue with hand-made time points: order, ties, cancel, re-entrancy.
#include "net/timer_queue.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace stellwerk::net {
namespace {

const TimePoint kStart{std::chrono::hours(1)};

TEST(TimerQueue, RunsDueTimersInDeadlineOrderTiesInAddOrder) {
  TimerQueue q;
  std::string order;
  q.add(kStart + milliseconds(30), [&] { order += 'c'; });
  q.add(kStart + milliseconds(10), [&] { order += 'a'; });
  q.add(kStart + milliseconds(20), [&] { order += 'b'; });
  q.add(kStart + milliseconds(20), [&] { order += 'B'; });
  EXPECT_EQ(q.run_due(kStart + milliseconds(25)), 3u);
  EXPECT_EQ(order, "abB");
  EXPECT_EQ(q.next_deadline(), kStart + milliseconds(30));
  EXPECT_EQ(q.run_due(kStart + milliseconds(30)), 1u);
  EXPECT_EQ(order, "abBc");
  EXPECT_FALSE(q.next_deadline().has_value());
}

TEST(TimerQueue, NothingRunsBeforeItsDeadline) {
  TimerQueue q;
  bool ran = false;
  q.add(kStart + seconds(1), [&] { ran = true; });
  EXPECT_EQ(q.run_due(kStart), 0u);
  EXPECT_FALSE(ran);
  EXPECT_EQ(q.size(), 1u);
}

TEST(TimerQueue, CancelledTimerNeverRunsAndLeavesNoDeadline) {
  TimerQueue q;
  bool ran = false;
  TimerId early = q.add(kStart + milliseconds(1), [&] { ran = true; });
  q.add(kStart + milliseconds(5), [] {});
  q.cancel(early);
  q.cancel(early);  // twice is harmless
  EXPECT_EQ(q.next_deadline(), kStart + milliseconds(5));
  q.run_due(kStart + seconds(1));
  EXPECT_FALSE(ran);
  EXPECT_EQ(q.size(), 0u);
}

TEST(TimerQueue, CallbackMayCancelALaterDueTimer) {
  TimerQueue q;
  bool second_ran = false;
  TimerId second = 0;
  q.add(kStart, [&] { q.cancel(second); });
  second = q.add(kStart, [&] { second_ran = true; });
  EXPECT_EQ(q.run_due(kStart), 1u);
  EXPECT_FALSE(second_ran);
}

TEST(TimerQueue, TimerAddedByACallbackWaitsForTheNextRun) {
  TimerQueue q;
  int runs = 0;
  std::function<void()> rearm = [&] {
    ++runs;
    q.add(kStart, rearm);  // due already: must not spin inside run_due
  };
  q.add(kStart, rearm);
  EXPECT_EQ(q.run_due(kStart), 1u);
  EXPECT_EQ(q.run_due(kStart), 1u);
  EXPECT_EQ(runs, 2);
}

TEST(TimerQueue, ManyCancellationsKeepTheSurvivor) {
  // Re-armed keep-alive timers: the heap is compacted, the live one survives.
  TimerQueue q;
  std::vector<TimerId> ids;
  for (int i = 0; i < 10'000; ++i) ids.push_back(q.add(kStart + milliseconds(i), [] {}));
  bool survivor_ran = false;
  q.add(kStart + seconds(100), [&] { survivor_ran = true; });
  for (TimerId id : ids) q.cancel(id);
  EXPECT_EQ(q.size(), 1u);
  EXPECT_EQ(q.next_deadline(), kStart + seconds(100));
  EXPECT_EQ(q.run_due(kStart + seconds(100)), 1u);
  EXPECT_TRUE(survivor_ran);
}

TEST(TimerQueue, IdsAreNeverZero) {
  TimerQueue q;
  EXPECT_NE(q.add(kStart, [] {}), 0u);
}

}  // namespace
}  // namespace stellwerk::net

// PausePolicy: a worker pauses before sleeping only while it was busy for a
// good share of the last window, and once pausing it keeps on down to a
// lower share. Time is made up; nothing sleeps.
#include "net/pause_policy.h"

#include <gtest/gtest.h>

namespace stellwerk::net {
namespace {

constexpr Duration kWindow = PausePolicy::kWindow;

// One window in which the worker slept for `asleep_share` of the time; returns
// the decision made at its end.
bool window(PausePolicy& policy, TimePoint& now, double asleep_share) {
  policy.add_sleep(std::chrono::duration_cast<Duration>(kWindow * asleep_share));
  now += kWindow;
  return policy.pays(now);
}

struct PausePolicyTest : ::testing::Test {
  PausePolicy policy;
  TimePoint now{std::chrono::hours(1)};
  void SetUp() override { EXPECT_FALSE(policy.pays(now)); }  // starts its first window
};

TEST_F(PausePolicyTest, AWorkerAsleepMostOfTheTimeDoesNotPause) {
  EXPECT_FALSE(window(policy, now, 0.70));
  EXPECT_FALSE(window(policy, now, 0.90));
}

TEST_F(PausePolicyTest, ABusyWorkerPauses) {
  EXPECT_TRUE(window(policy, now, 0.40));  // busy 0.60
}

TEST_F(PausePolicyTest, PausingGoesOnDownToALowerShareThanItStartsAt) {
  ASSERT_TRUE(window(policy, now, 0.50));
  EXPECT_TRUE(window(policy, now, 0.65));   // busy 0.35: would not start, goes on
  EXPECT_FALSE(window(policy, now, 0.75));  // busy 0.25: stops
  EXPECT_FALSE(window(policy, now, 0.65));  // busy 0.35 again: does not start
}

TEST_F(PausePolicyTest, DecidesOncePerWindow) {
  policy.add_sleep(kWindow / 10);
  EXPECT_FALSE(policy.pays(now + kWindow / 2));  // mid-window: the last decision holds
  EXPECT_TRUE(policy.pays(now + kWindow));
}

TEST_F(PausePolicyTest, ALongSleepEndsPausing) {
  ASSERT_TRUE(window(policy, now, 0.10));
  policy.add_sleep(std::chrono::seconds(10));  // the worker idled
  now += std::chrono::seconds(10);
  EXPECT_FALSE(policy.pays(now));
}

TEST(PausePolicy, WithAShareOfZeroAnIdleWorkerPausesToo) {
  PausePolicy always(0);
  TimePoint now{std::chrono::hours(1)};
  always.pays(now);
  always.add_sleep(std::chrono::seconds(10));
  EXPECT_TRUE(always.pays(now + kWindow));
}

}  // namespace
}  // namespace stellwerk::net

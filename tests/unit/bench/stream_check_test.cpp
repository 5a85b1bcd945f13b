// The per-publisher stream check: order, gaps, late arrivals, duplicates and
// what counts as lost.
#include "bench/stream_check.h"

#include <gtest/gtest.h>

namespace stellwerk::bench {
namespace {

TEST(StreamCheck, InOrderStreamHasNothingMissing) {
  StreamCheck check;
  for (uint64_t n = 0; n < 1000; ++n) ASSERT_EQ(check.accept(n), Arrival::in_order);
  EXPECT_EQ(check.unique(), 1000u);
  EXPECT_EQ(check.missing(), 0u);
  EXPECT_EQ(check.lost(1000), 0u);
}

TEST(StreamCheck, SkippedNumbersAreMissingUntilTheyArriveOutOfOrder) {
  StreamCheck check;
  EXPECT_EQ(check.accept(0), Arrival::in_order);
  EXPECT_EQ(check.accept(4), Arrival::ahead);
  EXPECT_EQ(check.missing(), 3u);
  EXPECT_EQ(check.accept(2), Arrival::out_of_order);
  EXPECT_EQ(check.accept(1), Arrival::out_of_order);
  EXPECT_EQ(check.accept(3), Arrival::out_of_order);
  EXPECT_EQ(check.missing(), 0u);
  EXPECT_EQ(check.accept(5), Arrival::in_order);
  EXPECT_EQ(check.unique(), 6u);
}

TEST(StreamCheck, RepeatsAreDuplicatesWhetherInOrderOrFromAGap) {
  StreamCheck check;
  EXPECT_EQ(check.accept(0), Arrival::in_order);
  EXPECT_EQ(check.accept(0), Arrival::duplicate);
  EXPECT_EQ(check.accept(3), Arrival::ahead);
  EXPECT_EQ(check.accept(2), Arrival::out_of_order);
  EXPECT_EQ(check.accept(2), Arrival::duplicate);
  EXPECT_EQ(check.accept(3), Arrival::duplicate);
  EXPECT_EQ(check.unique(), 3u);
}

TEST(StreamCheck, LostCountsGapsAndTheMissingTail) {
  StreamCheck check;
  for (uint64_t n : {0, 1, 5, 6}) (void)check.accept(n);
  // 2, 3, 4 never came, and the publisher also sent 7 and 8.
  EXPECT_EQ(check.lost(9), 5u);
}

TEST(StreamCheck, HugeGapCostsOneRange) {
  StreamCheck check;
  EXPECT_EQ(check.accept(1'000'000'000), Arrival::ahead);
  EXPECT_EQ(check.missing(), 1'000'000'000u);
  EXPECT_EQ(check.accept(500), Arrival::out_of_order);
  EXPECT_EQ(check.missing(), 999'999'999u);
}

}  // namespace
}  // namespace stellwerk::bench

// The latency histogram: bucket layout, percentiles within the promised
// error, and the edge cases (empty, one value, huge values).
#include "bench/histogram.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

namespace stellwerk::bench {
namespace {

TEST(LatencyHistogram, BucketsAreContiguousAndCoverEveryValue) {
  for (size_t bucket = 0; bucket + 1 < LatencyHistogram::kBucketCount; ++bucket) {
    const uint64_t low = LatencyHistogram::bucket_low(bucket);
    const uint64_t width = LatencyHistogram::bucket_width(bucket);
    ASSERT_EQ(LatencyHistogram::bucket_low(bucket + 1), low + width) << "bucket " << bucket;
    ASSERT_EQ(LatencyHistogram::bucket_of(low), bucket);
    ASSERT_EQ(LatencyHistogram::bucket_of(low + width - 1), bucket);
  }
  EXPECT_EQ(LatencyHistogram::bucket_of(UINT64_MAX), LatencyHistogram::kBucketCount - 1);
}

TEST(LatencyHistogram, SmallValuesAreExact) {
  LatencyHistogram histogram;
  for (uint64_t v = 1; v <= 10; ++v) histogram.record(v);
  EXPECT_EQ(histogram.percentile(0.5), 5u);
  EXPECT_EQ(histogram.percentile(1.0), 10u);
  EXPECT_EQ(histogram.min(), 1u);
  EXPECT_DOUBLE_EQ(histogram.mean(), 5.5);
}

TEST(LatencyHistogram, PercentilesAreWithinThreePercent) {
  LatencyHistogram histogram;
  std::mt19937_64 random(7);
  std::uniform_int_distribution<uint64_t> microseconds(1'000, 10'000'000);
  std::vector<uint64_t> values;
  for (int i = 0; i < 100'000; ++i) values.push_back(microseconds(random));
  for (uint64_t v : values) histogram.record(v);
  std::sort(values.begin(), values.end());
  for (double fraction : {0.5, 0.9, 0.99, 0.999}) {
    const auto exact =
        static_cast<double>(values[static_cast<size_t>(std::ceil(fraction * values.size())) - 1]);
    const auto reported = static_cast<double>(histogram.percentile(fraction));
    EXPECT_NEAR(reported, exact, exact * 0.03) << "fraction " << fraction;
  }
}

TEST(LatencyHistogram, EmptyReportsZeroAndTopPercentileIsCappedAtMax) {
  LatencyHistogram histogram;
  EXPECT_EQ(histogram.percentile(0.99), 0u);
  EXPECT_EQ(histogram.min(), 0u);
  histogram.record(1'000'001);
  EXPECT_EQ(histogram.percentile(1.0), 1'000'001u) << "middle of the bucket would overshoot the only value";
  EXPECT_EQ(histogram.max(), 1'000'001u);
}

TEST(LatencyHistogram, MergeAddsCountsAndClearEmpties) {
  LatencyHistogram a, b;
  a.record(100);
  b.record(300);
  b.record(500);
  a.merge(b);
  EXPECT_EQ(a.count(), 3u);
  EXPECT_EQ(a.max(), 500u);
  EXPECT_EQ(a.min(), 100u);
  a.clear();
  EXPECT_EQ(a.count(), 0u);
  EXPECT_EQ(a.max(), 0u);
}

}  // namespace
}  // namespace stellwerk::bench

// A latency histogram with bounded relative error and fixed memory.
//
// Values (nanoseconds) below 64 have a bucket each; above, every power of two
// is split into 32 equal buckets, so a reported percentile is within about 3 %
// of the true value whatever the range (nanoseconds to minutes). Recording is
// a few instructions and never allocates, so the receive path can record
// every delivery.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

namespace stellwerk::bench {

class LatencyHistogram {
 public:
  static constexpr int kSubBucketBits = 5;
  static constexpr size_t kBucketCount = (64 - kSubBucketBits + 1) << kSubBucketBits;

  void record(uint64_t nanoseconds);
  void clear();
  void merge(const LatencyHistogram& other);

  uint64_t count() const { return count_; }
  uint64_t max() const { return max_; }
  uint64_t min() const { return count_ == 0 ? 0 : min_; }
  double mean() const { return count_ == 0 ? 0.0 : static_cast<double>(sum_) / static_cast<double>(count_); }
  // The value at `fraction` (0..1) of the recorded values, as the middle of
  // its bucket, capped at max(); 0 when nothing was recorded.
  uint64_t percentile(double fraction) const;

  // Exposed for the tests: the bucket of a value and the range of a bucket.
  static size_t bucket_of(uint64_t value);
  static uint64_t bucket_low(size_t bucket);
  static uint64_t bucket_width(size_t bucket);

 private:
  std::array<uint64_t, kBucketCount> buckets_{};
  uint64_t count_ = 0;
  uint64_t sum_ = 0;
  uint64_t max_ = 0;
  uint64_t min_ = UINT64_MAX;
};

}  // namespace stellwerk::bench

// Log-linear bucketing (see histogram.h). A value v >= 64 with highest set bit
// b lands in octave b - 4, sub-bucket (v >> (b - 5)) - 32; below 64 the bucket
// is the value itself, which joins the two ranges without a gap.
#include "bench/histogram.h"

#include <algorithm>
#include <bit>
#include <cmath>

namespace stellwerk::bench {
namespace {

constexpr uint64_t kSubBuckets = uint64_t{1} << LatencyHistogram::kSubBucketBits;

}  // namespace

size_t LatencyHistogram::bucket_of(uint64_t value) {
  if (value < 2 * kSubBuckets) return static_cast<size_t>(value);
  const int high_bit = 63 - std::countl_zero(value);
  const int shift = high_bit - kSubBucketBits;
  const uint64_t sub_bucket = (value >> shift) - kSubBuckets;
  return static_cast<size_t>((static_cast<uint64_t>(shift) + 1) * kSubBuckets + sub_bucket);
}

uint64_t LatencyHistogram::bucket_low(size_t bucket) {
  if (bucket < 2 * kSubBuckets) return bucket;
  const uint64_t shift = bucket / kSubBuckets - 1;
  return (kSubBuckets + bucket % kSubBuckets) << shift;
}

uint64_t LatencyHistogram::bucket_width(size_t bucket) {
  if (bucket < 2 * kSubBuckets) return 1;
  return uint64_t{1} << (bucket / kSubBuckets - 1);
}

void LatencyHistogram::record(uint64_t nanoseconds) {
  ++buckets_[bucket_of(nanoseconds)];
  ++count_;
  sum_ += nanoseconds;
  max_ = std::max(max_, nanoseconds);
  min_ = std::min(min_, nanoseconds);
}

void LatencyHistogram::clear() { *this = LatencyHistogram(); }

void LatencyHistogram::merge(const LatencyHistogram& other) {
  for (size_t i = 0; i < kBucketCount; ++i) buckets_[i] += other.buckets_[i];
  count_ += other.count_;
  sum_ += other.sum_;
  max_ = std::max(max_, other.max_);
  min_ = std::min(min_, other.min_);
}

uint64_t LatencyHistogram::percentile(double fraction) const {
  if (count_ == 0) return 0;
  const double clamped = std::clamp(fraction, 0.0, 1.0);
  const auto rank =
      std::max<uint64_t>(1, static_cast<uint64_t>(std::ceil(clamped * static_cast<double>(count_))));
  uint64_t seen = 0;
  for (size_t bucket = 0; bucket < kBucketCount; ++bucket) {
    seen += buckets_[bucket];
    if (seen >= rank) return std::min(max_, bucket_low(bucket) + bucket_width(bucket) / 2);
  }
  return max_;
}

}  // namespace stellwerk::bench

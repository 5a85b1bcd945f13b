// Gap bookkeeping for StreamCheck (see stream_check.h).
#include "bench/stream_check.h"

#include <iterator>

namespace stellwerk::bench {

Arrival StreamCheck::accept(uint64_t sequence) {
  if (sequence == next_) {
    ++next_;
    return Arrival::in_order;
  }
  if (sequence > next_) {
    gaps_.emplace(next_, sequence - 1);
    missing_count_ += sequence - next_;
    next_ = sequence + 1;
    return Arrival::ahead;
  }
  return take_from_gap(sequence) ? Arrival::out_of_order : Arrival::duplicate;
}

// Removes `sequence` from the gap holding it, splitting the gap if needed.
// False when no gap holds it: it arrived before.
bool StreamCheck::take_from_gap(uint64_t sequence) {
  auto after = gaps_.upper_bound(sequence);
  if (after == gaps_.begin()) return false;
  auto gap = std::prev(after);
  const uint64_t first = gap->first;
  const uint64_t last = gap->second;
  if (sequence > last) return false;
  gaps_.erase(gap);
  if (first < sequence) gaps_.emplace(first, sequence - 1);
  if (sequence < last) gaps_.emplace(sequence + 1, last);
  --missing_count_;
  return true;
}

}  // namespace stellwerk::bench

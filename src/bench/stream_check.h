// Checks one publisher's stream of sequence numbers as one subscriber sees it.
//
// A publisher numbers its messages 0, 1, 2, ...; MQTT delivers the messages of
// one publisher on one topic at one QoS in order, exactly once for QoS 2 and
// (without reconnects) for every QoS. The check keeps the next expected number
// and the ranges skipped so far: an arrival past the expected number opens a
// gap; a later arrival inside a gap is out of order; anything else below the
// expected number is a duplicate. What is still missing when the run ends is
// lost. Memory stays constant while nothing goes wrong.
#pragma once

#include <cstdint>
#include <map>

namespace stellwerk::bench {

enum class Arrival {
  in_order,      // the next expected number
  ahead,         // new, but numbers before it are missing (so far)
  out_of_order,  // new, fills part of an earlier gap
  duplicate,     // seen before
};

class StreamCheck {
 public:
  Arrival accept(uint64_t sequence);

  // Distinct numbers seen.
  uint64_t unique() const { return next_ - missing_count_; }
  // Numbers below the highest seen that have not arrived.
  uint64_t missing() const { return missing_count_; }
  // Messages the publisher sent that never arrived, given that it sent `sent`.
  uint64_t lost(uint64_t sent) const { return sent > unique() ? sent - unique() : 0; }

 private:
  bool take_from_gap(uint64_t sequence);

  uint64_t next_ = 0;                  // every number below it arrived, except those in gaps_
  std::map<uint64_t, uint64_t> gaps_;  // first -> last (inclusive) of each missing range
  uint64_t missing_count_ = 0;
};

}  // namespace stellwerk::bench

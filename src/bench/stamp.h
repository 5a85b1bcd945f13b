// The stamp every benchmark message carries at the start of its payload:
// which publisher sent it, its sequence number in that publisher's stream and
// when it was (or was due to be) sent. The receiver checks loss, duplicates
// and order per publisher from the first two and latency from the third.
// The clock is the generator's own steady clock, so sender and receiver must
// be the same process; the rest of the payload is filler.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

namespace stellwerk::bench {

// "SWB1" + publisher (4) + sequence (8) + send time in ns (8), little-endian.
inline constexpr size_t kStampSize = 24;

struct Stamp {
  uint32_t publisher = 0;
  uint64_t sequence = 0;
  uint64_t sent_ns = 0;

  bool operator==(const Stamp&) const = default;
};

// Writes kStampSize bytes at `out`.
void write_stamp(const Stamp& stamp, uint8_t* out);

// nullopt when the payload is too short or lacks the marker (a message that
// some other client published on our topics).
std::optional<Stamp> read_stamp(std::span<const uint8_t> payload);

}  // namespace stellwerk::bench

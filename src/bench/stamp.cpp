// Byte layout of the payload stamp (see stamp.h).
#include "bench/stamp.h"

#include <cstring>

namespace stellwerk::bench {
namespace {

constexpr uint8_t kMarker[4] = {'S', 'W', 'B', '1'};

template <typename T>
void put_le(T value, uint8_t* out) {
  for (size_t i = 0; i < sizeof(T); ++i) out[i] = static_cast<uint8_t>(value >> (8 * i));
}

template <typename T>
T get_le(const uint8_t* in) {
  T value = 0;
  for (size_t i = 0; i < sizeof(T); ++i) value |= static_cast<T>(in[i]) << (8 * i);
  return value;
}

}  // namespace

void write_stamp(const Stamp& stamp, uint8_t* out) {
  std::memcpy(out, kMarker, sizeof kMarker);
  put_le(stamp.publisher, out + 4);
  put_le(stamp.sequence, out + 8);
  put_le(stamp.sent_ns, out + 16);
}

std::optional<Stamp> read_stamp(std::span<const uint8_t> payload) {
  if (payload.size() < kStampSize) return std::nullopt;
  if (std::memcmp(payload.data(), kMarker, sizeof kMarker) != 0) return std::nullopt;
  const uint8_t* bytes = payload.data();
  return Stamp{get_le<uint32_t>(bytes + 4), get_le<uint64_t>(bytes + 8), get_le<uint64_t>(bytes + 16)};
}

}  // namespace stellwerk::bench

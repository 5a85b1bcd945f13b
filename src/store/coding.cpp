// Byte order is fixed (little-endian) whatever the host, so a store directory
// can move between machines.
#include "store/coding.h"

#include <algorithm>

namespace stellwerk::store::coding {
void Writer::grow(size_t more) {
  // Room beyond the request, so that what comes next fits without another
  // call: a frame's header and then its payload (a message body of a few
  // hundred bytes) take one call, not two (3 % of a recorded delivery,
  // micro_store).
  constexpr size_t kSlack = 256;
  // A string that keeps its room between writers takes all of its capacity
  // at once: the allocation doubles it, so room runs out rarely.
  const size_t size = std::max(end_ + more + kSlack, kept_end_ ? out_.capacity() : 0);
  // Without zeroing it: the encoders write every byte they reserve before
  // the destructor gives back the rest, and zeroing it for each record showed
  // in profiles of the broker's thread (memset, 1 % of a stored delivery).
  // resize_and_overwrite is C++23, so this file is compiled as such (CMakeLists.txt).
#if defined(__cpp_lib_string_resize_and_overwrite)
  out_.resize_and_overwrite(size, [](char*, size_t kept) { return kept; });
#else
  out_.resize(size);
#endif
}

std::string_view Reader::take(size_t size) {
  if (!ok_ || size > rest_.size()) {
    ok_ = false;
    return {};
  }
  std::string_view taken = rest_.substr(0, size);
  rest_.remove_prefix(size);
  return taken;
}

uint8_t Reader::u8() {
  const std::string_view b = take(1);
  return b.empty() ? 0 : static_cast<uint8_t>(b[0]);
}

uint16_t Reader::u16() {
  const std::string_view b = take(2);
  return b.empty() ? 0 : load_fixed<uint16_t>(b.data());
}

uint32_t Reader::u32() {
  const std::string_view b = take(4);
  return b.empty() ? 0 : load_u32(b.data());
}

uint64_t Reader::u64() {
  const std::string_view b = take(8);
  return b.empty() ? 0 : load_u64(b.data());
}

uint64_t Reader::varint() {
  uint64_t value = 0;
  for (unsigned shift = 0; shift < 64; shift += 7) {
    const uint8_t byte = u8();
    if (!ok_) return 0;
    value |= static_cast<uint64_t>(byte & 0x7F) << shift;
    if (!(byte & 0x80)) return value;
  }
  ok_ = false;  // more than ten bytes: not a varint we wrote
  return 0;
}

uint32_t Reader::varint32() {
  const uint64_t value = varint();
  if (value > UINT32_MAX) ok_ = false;
  return ok_ ? static_cast<uint32_t>(value) : 0;
}

std::string_view Reader::bytes() {
  const uint64_t size = varint();
  if (!ok_ || size > rest_.size()) {
    ok_ = false;
    return {};
  }
  return take(static_cast<size_t>(size));
}

bool Reader::boolean() {
  const uint8_t value = u8();
  if (value > 1) ok_ = false;
  return value == 1;
}

}  // namespace stellwerk::store::coding

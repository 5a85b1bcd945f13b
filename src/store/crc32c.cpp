// Both implementations process the reflected polynomial 0x82F63B78 on the
// inverted CRC; extend() inverts on entry and exit so that CRCs compose.
#include "store/crc32c.h"

#include <algorithm>
#include <array>
#include <cstring>

#if defined(__x86_64__)
#include <nmmintrin.h>
#endif

namespace stellwerk::store::crc32c {
namespace {

constexpr uint32_t kPolynomial = 0x82F63B78;

using Tables = std::array<std::array<uint32_t, 256>, 8>;

// tables[k][b]: the CRC contribution of byte b followed by k zero bytes,
// so eight bytes can be folded in with eight independent lookups.
constexpr Tables make_tables() {
  Tables tables{};
  for (uint32_t byte = 0; byte < 256; ++byte) {
    uint32_t crc = byte;
    for (int bit = 0; bit < 8; ++bit) crc = (crc >> 1) ^ ((crc & 1) ? kPolynomial : 0);
    tables[0][byte] = crc;
  }
  for (size_t k = 1; k < 8; ++k) {
    for (uint32_t byte = 0; byte < 256; ++byte) {
      const uint32_t previous = tables[k - 1][byte];
      tables[k][byte] = (previous >> 8) ^ tables[0][previous & 0xFF];
    }
  }
  return tables;
}

constexpr Tables kTables = make_tables();

uint64_t load_le64(const uint8_t* p) {
  uint64_t value = 0;
  for (int i = 7; i >= 0; --i) value = (value << 8) | p[i];
  return value;
}

uint32_t extend_table(uint32_t crc, const uint8_t* p, size_t size) {
  while (size >= 8) {
    const uint64_t word = load_le64(p) ^ crc;
    crc = kTables[7][word & 0xFF] ^ kTables[6][(word >> 8) & 0xFF] ^ kTables[5][(word >> 16) & 0xFF] ^
          kTables[4][(word >> 24) & 0xFF] ^ kTables[3][(word >> 32) & 0xFF] ^
          kTables[2][(word >> 40) & 0xFF] ^ kTables[1][(word >> 48) & 0xFF] ^ kTables[0][word >> 56];
    p += 8;
    size -= 8;
  }
  for (; size > 0; --size, ++p) crc = (crc >> 8) ^ kTables[0][(crc ^ *p) & 0xFF];
  return crc;
}

#if defined(__x86_64__)
// Folds the next sizeof(Word) bytes into the CRC with the instruction of that width.
template <typename Word>
__attribute__((target("sse4.2"))) uint64_t fold(uint64_t crc, const uint8_t* p) {
  Word word;
  std::memcpy(&word, p, sizeof(Word));
  const auto narrow = static_cast<uint32_t>(crc);
  if constexpr (sizeof(Word) == 8) {
    return _mm_crc32_u64(crc, word);
  } else if constexpr (sizeof(Word) == 4) {
    return _mm_crc32_u32(narrow, word);
  } else if constexpr (sizeof(Word) == 2) {
    return _mm_crc32_u16(narrow, word);
  } else {
    return _mm_crc32_u8(narrow, word);
  }
}

__attribute__((target("sse4.2"))) uint32_t extend_sse42(uint32_t crc, const uint8_t* p, size_t size) {
  uint64_t wide = crc;
  for (; size >= 8; size -= 8, p += 8) wide = fold<uint64_t>(wide, p);
  // At most three steps for the last 0-7 bytes, not one per byte: records
  // are short, so the tail is a good part of each.
  if (size & 4) {
    wide = fold<uint32_t>(wide, p);
    p += 4;
  }
  if (size & 2) {
    wide = fold<uint16_t>(wide, p);
    p += 2;
  }
  if (size & 1) wide = fold<uint8_t>(wide, p);
  return static_cast<uint32_t>(wide);
}

// Three CRCs continued from `crc`, in lockstep while every input has a word left.
__attribute__((target("sse4.2"))) void extend3_sse42(uint32_t crc, const std::string_view (&inputs)[3],
                                                     uint32_t (&out)[3]) {
  const size_t common = std::min({inputs[0].size(), inputs[1].size(), inputs[2].size()}) & ~size_t{7};
  const auto* a = reinterpret_cast<const uint8_t*>(inputs[0].data());
  const auto* b = reinterpret_cast<const uint8_t*>(inputs[1].data());
  const auto* c = reinterpret_cast<const uint8_t*>(inputs[2].data());
  uint64_t crc_a = ~crc, crc_b = ~crc, crc_c = ~crc;
  for (size_t i = 0; i < common; i += 8) {
    crc_a = fold<uint64_t>(crc_a, a + i);
    crc_b = fold<uint64_t>(crc_b, b + i);
    crc_c = fold<uint64_t>(crc_c, c + i);
  }
  out[0] = ~extend_sse42(static_cast<uint32_t>(crc_a), a + common, inputs[0].size() - common);
  out[1] = ~extend_sse42(static_cast<uint32_t>(crc_b), b + common, inputs[1].size() - common);
  out[2] = ~extend_sse42(static_cast<uint32_t>(crc_c), c + common, inputs[2].size() - common);
}

bool cpu_has_sse42() {
  static const bool has = __builtin_cpu_supports("sse4.2");
  return has;
}
#endif

}  // namespace

uint32_t extend_portable(uint32_t crc, const void* data, size_t size) {
  return ~extend_table(~crc, static_cast<const uint8_t*>(data), size);
}

bool hardware_accelerated() {
#if defined(__x86_64__)
  return cpu_has_sse42();
#else
  return false;
#endif
}

uint32_t extend(uint32_t crc, const void* data, size_t size) {
  const auto* bytes = static_cast<const uint8_t*>(data);
#if defined(__x86_64__)
  if (cpu_has_sse42()) return ~extend_sse42(~crc, bytes, size);
#endif
  return extend_portable(crc, bytes, size);
}

void extend3(uint32_t crc, const std::string_view (&inputs)[3], uint32_t (&out)[3]) {
#if defined(__x86_64__)
  if (cpu_has_sse42()) return extend3_sse42(crc, inputs, out);
#endif
  for (size_t i = 0; i < 3; ++i) out[i] = extend(crc, inputs[i].data(), inputs[i].size());
}

}  // namespace stellwerk::store::crc32c

// CRC-32C against published check values, and the hardware path against
// the table path.
#include "store/crc32c.h"

#include <gtest/gtest.h>

#include <random>
#include <string>

namespace stellwerk::store::crc32c {
namespace {

TEST(Crc32c, MatchesKnownValues) {
  EXPECT_EQ(value(""), 0u);
  EXPECT_EQ(value("123456789"), 0xE3069283u);            // the standard check value
  EXPECT_EQ(value(std::string(32, '\0')), 0x8A9136AAu);  // RFC 3720 B.4
  EXPECT_EQ(value(std::string(32, '\xFF')), 0x62A8AB43u);
}

TEST(Crc32c, ExtendComposes) {
  const std::string a = "hello, ", b = "durable world";
  EXPECT_EQ(extend(value(a), b.data(), b.size()), value(a + b));
}

TEST(Crc32c, HardwareAndTableAgree) {
  std::mt19937 random(7);
  for (size_t size = 0; size < 300; ++size) {
    std::string data(size, '\0');
    for (char& c : data) c = static_cast<char>(random());
    ASSERT_EQ(extend(0, data.data(), size), extend_portable(0, data.data(), size)) << size;
  }
}

// The hardware path takes 8 bytes, then 4, 2 and 1 for the tail: every
// tail length at every alignment, also when continuing another CRC.
TEST(Crc32c, HardwareAndTableAgreeAtEveryAlignmentAndTail) {
  std::mt19937 random(11);
  std::string buffer(600, '\0');
  for (char& c : buffer) c = static_cast<char>(random());
  for (size_t offset = 0; offset < 8; ++offset) {
    for (size_t size = 0; size < 80; ++size) {
      const char* data = buffer.data() + offset;
      ASSERT_EQ(extend(0, data, size), extend_portable(0, data, size)) << offset << " " << size;
      const uint32_t before = static_cast<uint32_t>(random());
      ASSERT_EQ(extend(before, data, size), extend_portable(before, data, size)) << offset << " " << size;
    }
  }
  for (int round = 0; round < 1000; ++round) {
    const size_t offset = random() % 64;
    const size_t size = random() % (buffer.size() - offset);
    ASSERT_EQ(extend(0, buffer.data() + offset, size), extend_portable(0, buffer.data() + offset, size))
        << offset << " " << size;
  }
}

TEST(Crc32c, ThreeAtOnceEqualsOneByOne) {
  std::mt19937 random(7);
  std::string bytes(600, '\0');
  for (char& c : bytes) c = static_cast<char>(random());
  const std::string_view all(bytes);
  // Lengths around the word size, and inputs of very different lengths.
  const size_t lengths[] = {0, 1, 7, 8, 9, 15, 16, 17, 31, 64, 130, 199};
  for (size_t a : lengths) {
    for (size_t b : lengths) {
      for (size_t c : lengths) {
        const std::string_view inputs[3] = {all.substr(0, a), all.substr(200 + 3, b), all.substr(400 + 5, c)};
        uint32_t out[3];
        values3(inputs, out);
        for (size_t i = 0; i < 3; ++i) ASSERT_EQ(out[i], value(inputs[i])) << a << " " << b << " " << c;
      }
    }
  }
}

TEST(Crc32c, ShortInputsMatchKnownValues) {
  // Each of these ends in the tail steps (4, 2 and 1 bytes) alone.
  EXPECT_EQ(value("a"), 0xC1D04330u);
  EXPECT_EQ(value("abc"), 0x364B3FB7u);
  EXPECT_EQ(value("1234567"), extend_portable(0, "1234567", 7));
}

}  // namespace
}  // namespace stellwerk::store::crc32c

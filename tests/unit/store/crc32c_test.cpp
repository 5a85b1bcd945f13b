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

}  // namespace
}  // namespace stellwerk::store::crc32c

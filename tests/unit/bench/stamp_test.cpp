// The payload stamp: round trip, and payloads that are not ours.
#include "bench/stamp.h"

#include <gtest/gtest.h>

#include <vector>

namespace stellwerk::bench {
namespace {

TEST(Stamp, RoundTripsAtTheStartOfALargerPayload) {
  std::vector<uint8_t> payload(64, 0xEE);
  const Stamp stamp{4'000'000'001u, 0x0102030405060708ull, 987'654'321'012ull};
  write_stamp(stamp, payload.data());
  const auto read = read_stamp(payload);
  ASSERT_TRUE(read.has_value());
  EXPECT_EQ(*read, stamp);
  EXPECT_EQ(payload[kStampSize], 0xEE) << "the filler after the stamp is left alone";
}

TEST(Stamp, TooShortPayloadIsNotStamped) {
  std::vector<uint8_t> payload(kStampSize, 0);
  write_stamp(Stamp{1, 2, 3}, payload.data());
  payload.pop_back();
  EXPECT_FALSE(read_stamp(payload).has_value());
}

TEST(Stamp, PayloadWithoutTheMarkerIsNotStamped) {
  std::vector<uint8_t> payload(kStampSize, 0);
  write_stamp(Stamp{1, 2, 3}, payload.data());
  payload[0] = 'X';
  EXPECT_FALSE(read_stamp(payload).has_value());
}

}  // namespace
}  // namespace stellwerk::bench

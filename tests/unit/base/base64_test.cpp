// Base64 against RFC 4648's test vectors, with and without padding.
#include "base/base64.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace stellwerk {
namespace {

std::vector<uint8_t> bytes_of(std::string_view text) { return {text.begin(), text.end()}; }

struct Vector {
  std::string_view plain;
  std::string_view padded;
  std::string_view unpadded;
};

// RFC 4648, section 10.
constexpr Vector kRfc4648[] = {
    {"", "", ""},
    {"f", "Zg==", "Zg"},
    {"fo", "Zm8=", "Zm8"},
    {"foo", "Zm9v", "Zm9v"},
    {"foob", "Zm9vYg==", "Zm9vYg"},
    {"fooba", "Zm9vYmE=", "Zm9vYmE"},
    {"foobar", "Zm9vYmFy", "Zm9vYmFy"},
};

TEST(Base64, EncodesRfc4648Vectors) {
  for (const Vector& vector : kRfc4648) {
    EXPECT_EQ(base64_encode(bytes_of(vector.plain), Base64Padding::with_padding), vector.padded);
    EXPECT_EQ(base64_encode(bytes_of(vector.plain), Base64Padding::without_padding), vector.unpadded);
  }
}

TEST(Base64, DecodesPaddedAndUnpadded) {
  for (const Vector& vector : kRfc4648) {
    EXPECT_EQ(base64_decode(vector.padded), bytes_of(vector.plain)) << vector.padded;
    EXPECT_EQ(base64_decode(vector.unpadded), bytes_of(vector.plain)) << vector.unpadded;
  }
}

TEST(Base64, RoundTripsEveryByteValue) {
  std::vector<uint8_t> all(256);
  for (size_t i = 0; i < all.size(); ++i) all[i] = static_cast<uint8_t>(i);
  EXPECT_EQ(base64_decode(base64_encode(all, Base64Padding::with_padding)), all);
}

TEST(Base64, RejectsWhatNoEncoderWrites) {
  EXPECT_FALSE(base64_decode("Zm9v!"));     // outside the alphabet
  EXPECT_FALSE(base64_decode("Z"));         // one character carries no whole byte
  EXPECT_FALSE(base64_decode("Zg="));       // padded, but not to a multiple of four
  EXPECT_FALSE(base64_decode("Zg==Zg=="));  // '=' in the middle
  EXPECT_FALSE(base64_decode("Zm9v\n"));    // no line breaks inside a hash
}

}  // namespace
}  // namespace stellwerk

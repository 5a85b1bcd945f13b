// The properties part of a record (docs/formats/store.md) is pinned to exact
// bytes: the id -> member map now comes from the mqtt module, and a change
// there must not change what the store writes or how it reads old records.
#include <gtest/gtest.h>

#include "store/record.h"
#include "store_test_util.h"

namespace stellwerk::store {
namespace {

using testing::all_properties;

// Bytes the codec wrote before it shared the mqtt module's table: u8 values,
// then little-endian u16 and u32, then length-prefixed strings, then the
// repeated properties, then the 0 end byte.
constexpr std::string_view kEveryPropertyHex =
    "01011700190124012501280029012a01"          // u8: 0x01 0x17 0x19 0x24 0x25 0x28 0x29 0x2A
    "131e00210a00220400230200"                  // u16: 0x13 0x21 0x22 0x23
    "021e000000116300000018050000002700001000"  // u32: 0x02 0x11 0x18 0x27
    "030a746578742f706c61696e080a7265706c792f68657265090300010212066175746f2d31"
    "1505534352414d1604646174611a04696e666f1c056f746865721f03776879"  // bytes
    "0b010bffffff7f"                                                  // subscription identifiers 1, 268435455
    "26016b017626016b02763226000000";                                 // user properties, then the end byte

std::string hex(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out += kDigits[c >> 4];
    out += kDigits[c & 0xF];
  }
  return out;
}

TEST(PropertiesCodec, WritesTheDocumentedBytes) {
  std::string out;
  encode_properties(all_properties(), out);
  EXPECT_EQ(hex(out), kEveryPropertyHex);
}

TEST(PropertiesCodec, ReadsWhatItWrites) {
  std::string out;
  encode_properties(all_properties(), out);
  coding::Reader reader(out);
  mqtt::Properties back;
  ASSERT_TRUE(decode_properties(reader, back));
  EXPECT_EQ(back, all_properties());
  EXPECT_EQ(reader.remaining(), 0u);
}

TEST(PropertiesCodec, EmptyPropertiesAreTheEndByteAlone) {
  std::string out;
  encode_properties(mqtt::Properties{}, out);
  EXPECT_EQ(out, std::string(1, '\0'));
}

TEST(PropertiesCodec, RefusesAnUnknownIdAndATruncatedValue) {
  const std::string unknown("\x04\x00", 2);
  coding::Reader unknown_reader(unknown);
  mqtt::Properties out;
  EXPECT_FALSE(decode_properties(unknown_reader, out));

  const std::string truncated("\x27\x01\x02", 3);  // u32 with two bytes
  coding::Reader truncated_reader(truncated);
  EXPECT_FALSE(decode_properties(truncated_reader, out));
}

}  // namespace
}  // namespace stellwerk::store

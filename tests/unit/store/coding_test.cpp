// coding::Writer against the put_* functions it stands in for on the hot
// path: the same bytes, and nothing of its reserved room left behind.
#include "store/coding.h"

#include <gtest/gtest.h>

#include <limits>
#include <string>

namespace stellwerk::store::coding {
namespace {

TEST(Writer, WritesWhatThePutFunctionsWrite) {
  std::string expected = "before";
  put_u8(expected, 0xAB);
  put_u16(expected, 0xBEEF);
  put_u32(expected, 0xDEADBEEF);
  put_u64(expected, 0x0123456789ABCDEFull);
  put_varint(expected, std::numeric_limits<uint64_t>::max());  // the longest varint
  put_varint(expected, 300);
  put_bytes(expected, "topic/a");
  put_bytes(expected, "");

  std::string written = "before";
  {
    Writer writer(written);
    writer.reserve(1 + 2 + 4 + 8 + 2 * kMaxVarintSize + 2 * kMaxVarintSize + 7);
    writer.u8(0xAB);
    writer.u16(0xBEEF);
    writer.u32(0xDEADBEEF);
    writer.u64(0x0123456789ABCDEFull);
    writer.varint(std::numeric_limits<uint64_t>::max());
    writer.varint(300);
    writer.bytes("topic/a");
    writer.bytes("");
  }
  EXPECT_EQ(written, expected);
}

TEST(Writer, GivesBackTheRoomItDidNotUse) {
  std::string out = "x";
  {
    Writer writer(out);
    writer.reserve(1000);
    writer.u8('y');
    EXPECT_EQ(writer.offset(), 2u);
  }
  EXPECT_EQ(out, "xy");
  { Writer unused(out); }
  EXPECT_EQ(out, "xy");
}

TEST(Writer, WritersThatKeepTheRoomContinueWhereTheLastOneEnded) {
  std::string out;
  size_t end = 0;
  {
    Writer first(out, end);
    first.reserve(3);
    first.u8('a');
    first.u16(0x6362);  // "bc"
  }
  EXPECT_EQ(end, 3u);
  const size_t room = out.size();
  EXPECT_GE(room, 3u);  // the room stays in the string for the next writer
  {
    Writer second(out, end);
    second.reserve(1);  // fits in the kept room: the string does not change size
    EXPECT_EQ(out.size(), room);
    second.u8('d');
    *second.at(0) = 'A';
  }
  EXPECT_EQ(end, 4u);
  for (int i = 0; i < 5000; ++i) {  // past the room: the string grows and keeps what was written
    Writer more(out, end);
    more.reserve(1);
    more.u8('e');
  }
  ASSERT_EQ(end, 5004u);
  out.resize(end);
  EXPECT_EQ(out.substr(0, 5), "Abcde");
  EXPECT_EQ(out.find_first_not_of('e', 4), std::string::npos);
}

TEST(Writer, SkippedBytesCanBePatchedAndReservingAgainKeepsWhatWasWritten) {
  std::string out;
  {
    Writer writer(out);
    writer.reserve(4);
    writer.skip(3);
    writer.u8(1);
    for (int i = 0; i < 100; ++i) {  // many small reservations, each growing the string
      writer.reserve(1);
      writer.u8(static_cast<uint8_t>(i));
    }
  }
  ASSERT_EQ(out.size(), 104u);
  out[0] = out[1] = out[2] = 'p';  // skipped bytes are not zeroed: the caller patches them
  EXPECT_EQ(out.substr(0, 4), std::string("ppp\1", 4));
  for (int i = 0; i < 100; ++i) EXPECT_EQ(static_cast<uint8_t>(out[4 + static_cast<size_t>(i)]), i);
}

TEST(Coding, FixedWidthValuesPatchAndLoadLittleEndian) {
  std::string out(12, '\0');
  patch_u32(out, 0, 0x04030201);
  patch_u64(out, 4, 0x0C0B0A0908070605ull);
  EXPECT_EQ(out, std::string("\1\2\3\4\5\6\7\x08\x09\x0A\x0B\x0C", 12));
  EXPECT_EQ(load_u32(out.data()), 0x04030201u);
  EXPECT_EQ(load_u64(out.data() + 4), 0x0C0B0A0908070605ull);
}

}  // namespace
}  // namespace stellwerk::store::coding

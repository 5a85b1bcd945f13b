// UTF-8 and topic rules (validate.h): [MQTT-1.5.4-1..3], [MQTT-4.7.1-1..2],
// [MQTT-4.7.3-1..3] and shared subscriptions (v5 4.8.2).
#include "mqtt/validate.h"

#include <gtest/gtest.h>

#include <string>

namespace stellwerk::mqtt {
namespace {

using namespace std::string_literals;

TEST(Utf8, AsciiAndMultiByteAreValid) {
  EXPECT_TRUE(is_valid_utf8(""));
  EXPECT_TRUE(is_valid_utf8("plain ascii text longer than eight bytes"));
  EXPECT_TRUE(is_valid_utf8("\xC3\xBC"));           // U+00FC
  EXPECT_TRUE(is_valid_utf8("\xE2\x82\xAC"));       // U+20AC
  EXPECT_TRUE(is_valid_utf8("A\xF0\xAA\x9B\x94"));  // U+2A6D4, the spec's example
  EXPECT_TRUE(is_valid_utf8("\xF4\x8F\xBF\xBF"));   // U+10FFFF
}

TEST(Utf8, NullCharacterIsInvalid_MQTT_1_5_4_2) {
  EXPECT_FALSE(is_valid_utf8("\0"s));
  EXPECT_FALSE(is_valid_utf8("abcdefgh\0ijk"s));  // inside the 8-byte fast path
  EXPECT_FALSE(is_valid_utf8("ab\0"s));
}

TEST(Utf8, OverlongFormsAreInvalid_MQTT_1_5_4_1) {
  EXPECT_FALSE(is_valid_utf8("\xC0\x80"));  // U+0000 in two bytes
  EXPECT_FALSE(is_valid_utf8("\xC1\xBF"));
  EXPECT_FALSE(is_valid_utf8("\xE0\x80\xAF"));  // '/' in three bytes
  EXPECT_FALSE(is_valid_utf8("\xE0\x9F\xBF"));
  EXPECT_FALSE(is_valid_utf8("\xF0\x8F\xBF\xBF"));  // U+FFFF in four bytes
}

TEST(Utf8, SurrogatesAreInvalid_MQTT_1_5_4_1) {
  EXPECT_FALSE(is_valid_utf8("\xED\xA0\x80"));  // U+D800
  EXPECT_FALSE(is_valid_utf8("\xED\xBF\xBF"));  // U+DFFF
  EXPECT_TRUE(is_valid_utf8("\xED\x9F\xBF"));   // U+D7FF
  EXPECT_TRUE(is_valid_utf8("\xEE\x80\x80"));   // U+E000
}

TEST(Utf8, BeyondU10FFFFIsInvalid) {
  EXPECT_FALSE(is_valid_utf8("\xF4\x90\x80\x80"));
  EXPECT_FALSE(is_valid_utf8("\xF5\x80\x80\x80"));
  EXPECT_FALSE(is_valid_utf8("\xFF"));
}

TEST(Utf8, BrokenSequencesAreInvalid) {
  EXPECT_FALSE(is_valid_utf8("\x80"));  // lone continuation
  EXPECT_FALSE(is_valid_utf8("\xC3"));  // truncated
  EXPECT_FALSE(is_valid_utf8("\xE2\x82"));
  EXPECT_FALSE(is_valid_utf8("\xC3\x28"));  // bad continuation
  EXPECT_FALSE(is_valid_utf8("\xF0\x9F\x98\x28"));
  EXPECT_FALSE(is_valid_utf8("12345678\xC3"));  // after an ASCII block
}

// The spec lets a receiver refuse non-characters and controls but does not
// require it; we accept them.
TEST(Utf8, NonCharactersAndControlsAreAllowed) {
  EXPECT_TRUE(is_valid_utf8("\xEF\xBF\xBF"));  // U+FFFF
  EXPECT_TRUE(is_valid_utf8("\x01\x1F\x7F"));
  EXPECT_TRUE(is_valid_utf8("\xC2\x80"));  // U+0080
}

// [MQTT-1.5.4-3]: a BOM is an ordinary character.
TEST(Utf8, ByteOrderMarkIsKept_MQTT_1_5_4_3) {
  EXPECT_TRUE(
      is_valid_utf8("\xEF\xBB\xBF"
                    "a"));
}

TEST(Utf8, LongerThan65535BytesIsInvalid) {
  EXPECT_TRUE(is_valid_utf8(std::string(65'535, 'a')));
  EXPECT_FALSE(is_valid_utf8(std::string(65'536, 'a')));
}

TEST(TopicName, Rules_MQTT_4_7_0_1_MQTT_4_7_3_1) {
  EXPECT_TRUE(is_valid_topic_name("a/b/c"));
  EXPECT_TRUE(is_valid_topic_name("/"));
  EXPECT_TRUE(is_valid_topic_name("$SYS/broker"));
  EXPECT_TRUE(is_valid_topic_name("a//b "));
  EXPECT_FALSE(is_valid_topic_name(""));
  EXPECT_FALSE(is_valid_topic_name("a/+/b"));
  EXPECT_FALSE(is_valid_topic_name("a/#"));
  EXPECT_FALSE(is_valid_topic_name("a+b"));
  EXPECT_FALSE(is_valid_topic_name("a\0b"s));
}

TEST(TopicFilter, ValidFilters) {
  for (const char* filter :
       {"a", "#", "+", "/", "a/#", "+/+", "/+", "+/", "a/+/b", "a//b", "$SYS/#", "sport/tennis/+/#"}) {
    EXPECT_TRUE(is_valid_topic_filter(filter)) << filter;
  }
}

TEST(TopicFilter, MultiLevelWildcardIsWholeLastLevel_MQTT_4_7_1_1) {
  for (const char* filter : {"a#", "a/#/b", "#/", "a/b#", "##"}) {
    EXPECT_FALSE(is_valid_topic_filter(filter)) << filter;
  }
}

TEST(TopicFilter, SingleLevelWildcardIsWholeLevel_MQTT_4_7_1_2) {
  for (const char* filter : {"a+", "+a", "a/b+/c", "++", "a/+b"}) {
    EXPECT_FALSE(is_valid_topic_filter(filter)) << filter;
  }
}

TEST(TopicFilter, EmptyOrBadUtf8IsInvalid_MQTT_4_7_3_1_MQTT_4_7_3_2) {
  EXPECT_FALSE(is_valid_topic_filter(""));
  EXPECT_FALSE(is_valid_topic_filter("a\0"s));
  EXPECT_FALSE(is_valid_topic_filter("\xC0\xAF"));
}

TEST(SharedFilter, ParsesGroupAndFilter) {
  auto shared = parse_shared_filter("$share/group-1/sensors/+/temp");
  ASSERT_TRUE(shared);
  EXPECT_EQ(shared->group, "group-1");
  EXPECT_EQ(shared->filter, "sensors/+/temp");
  EXPECT_TRUE(is_valid_topic_filter("$share/group-1/sensors/+/temp"));
  EXPECT_TRUE(is_valid_topic_filter("$share/g/#"));
}

TEST(SharedFilter, NotShared) {
  EXPECT_FALSE(parse_shared_filter("a/b"));
  EXPECT_FALSE(parse_shared_filter("$share"));
  EXPECT_FALSE(parse_shared_filter("$shared/g/a"));
  EXPECT_FALSE(parse_shared_filter("$SHARE/g/a"));
}

TEST(SharedFilter, BrokenSharesHaveEmptyGroup) {
  for (const char* filter : {"$share/", "$share/g", "$share//a", "$share/g/", "$share/g+/a", "$share/#/a"}) {
    auto shared = parse_shared_filter(filter);
    ASSERT_TRUE(shared) << filter;
    EXPECT_TRUE(shared->group.empty()) << filter;
    EXPECT_FALSE(is_valid_topic_filter(filter)) << filter;
  }
  EXPECT_FALSE(is_valid_topic_filter("$share/g/a#"));
}

TEST(Wildcard, Detection) {
  EXPECT_TRUE(has_wildcard("a/+"));
  EXPECT_TRUE(has_wildcard("#"));
  EXPECT_FALSE(has_wildcard("a/b"));
}

// has_wildcard reads eight bytes at a time: a wildcard anywhere in a long
// name is found, and bytes that differ from '+' or '#' only in the high bit
// or the lowest bit are not taken for one.
TEST(Wildcard, FoundAtEveryPositionOfALongName) {
  const std::string near_misses = "*,\x22$\xab\xa3/a";
  for (size_t size = 1; size <= 24; ++size) {
    std::string name;
    for (size_t i = 0; i < size; ++i) name += near_misses[i % near_misses.size()];
    EXPECT_FALSE(has_wildcard(name)) << size;
    for (size_t at = 0; at < size; ++at) {
      for (char wildcard : {'+', '#'}) {
        std::string with = name;
        with[at] = wildcard;
        EXPECT_TRUE(has_wildcard(with)) << size << " " << at;
      }
    }
  }
}

TEST(TopicLevelOrder, ComparesLevelByLevel) {
  EXPECT_TRUE(topic_level_less("a", "a/b"));
  EXPECT_TRUE(topic_level_less("a/b", "a-b"));
  EXPECT_TRUE(topic_level_less("a/z", "a0"));
  EXPECT_TRUE(topic_level_less("a//b", "a/a"));
  EXPECT_TRUE(topic_level_less("a/b", "a/\xc3\xa4"));  // bytes compare unsigned
  EXPECT_FALSE(topic_level_less("a/b", "a/b"));
  EXPECT_FALSE(topic_level_less("a-b", "a/b"));
  EXPECT_FALSE(topic_level_less("a/b", "a"));
}

}  // namespace
}  // namespace stellwerk::mqtt

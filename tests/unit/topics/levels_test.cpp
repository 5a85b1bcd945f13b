// Splitting topics into levels and "$share/{group}/{filter}" into its parts.
#include "topics/levels.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace stellwerk::topics {
namespace {

std::vector<std::string> levels_of(std::string_view text) {
  std::vector<std::string> levels;
  LevelCursor cursor(text);
  while (cursor.has_next()) levels.emplace_back(cursor.next());
  return levels;
}

TEST(LevelCursor, SplitsOnEverySlash) {
  EXPECT_THAT(levels_of("a/b/c"), testing::ElementsAre("a", "b", "c"));
  EXPECT_THAT(levels_of("single"), testing::ElementsAre("single"));
}

// Empty levels are levels: "a//b" has three and "/" has two (MQTT 4.7.1.1).
TEST(LevelCursor, KeepsEmptyLevels) {
  EXPECT_THAT(levels_of("a//b"), testing::ElementsAre("a", "", "b"));
  EXPECT_THAT(levels_of("/"), testing::ElementsAre("", ""));
  EXPECT_THAT(levels_of("/a/"), testing::ElementsAre("", "a", ""));
  EXPECT_THAT(levels_of(""), testing::ElementsAre(""));
}

TEST(LevelCursor, RestIsWhatFollowsTheCurrentLevel) {
  LevelCursor cursor("a/b/c");
  EXPECT_EQ(cursor.next(), "a");
  EXPECT_EQ(cursor.rest(), "b/c");
  cursor.next();
  cursor.next();
  EXPECT_FALSE(cursor.has_next());
  EXPECT_EQ(cursor.rest(), "");
}

TEST(LevelKinds, RecognisesWildcardsOnlyAsWholeLevels) {
  EXPECT_TRUE(is_single_level_wildcard("+"));
  EXPECT_FALSE(is_single_level_wildcard("++"));
  EXPECT_TRUE(is_multi_level_wildcard("#"));
  EXPECT_FALSE(is_multi_level_wildcard("a#"));
  EXPECT_TRUE(is_dollar_level("$SYS"));
  EXPECT_FALSE(is_dollar_level(""));
  EXPECT_FALSE(is_dollar_level("a$"));
}

// [MQTT-4.8.2-1] [MQTT-4.8.2-2]: "$share/", a ShareName, "/", a Topic Filter.
TEST(SplitSharedFilter, SeparatesGroupAndFilter) {
  auto shared = split_shared_filter("$share/workers/jobs/+");
  ASSERT_TRUE(shared.has_value());
  EXPECT_EQ(shared->group, "workers");
  EXPECT_EQ(shared->filter, "jobs/+");

  shared = split_shared_filter("$share/g//");
  ASSERT_TRUE(shared.has_value());
  EXPECT_EQ(shared->group, "g");
  EXPECT_EQ(shared->filter, "/");
}

TEST(SplitSharedFilter, LeavesOtherFiltersAlone) {
  EXPECT_FALSE(split_shared_filter("a/b").has_value());
  EXPECT_FALSE(split_shared_filter("$SYS/#").has_value());
  EXPECT_FALSE(split_shared_filter("$shared/g/a").has_value());
  EXPECT_FALSE(split_shared_filter("$share/nofilter").has_value());
}

}  // namespace
}  // namespace stellwerk::topics

// ACL topics as filters: matching topic names (publish, delivery) and
// covering whole subscription filters, with %c / %u substituted.
#include "auth/topic_rule.h"

#include <gtest/gtest.h>

namespace stellwerk::auth {
namespace {

struct Case {
  std::string_view rule;
  std::string_view text;
  bool expected;
};

const SubstitutionValues kNoValues{};

TEST(TopicRule, MatchesTopicNames) {
  const Case cases[] = {
      {"a/b", "a/b", true},
      {"a/b", "a/b/c", false},
      {"a/b", "a", false},
      {"a/+", "a/b", true},
      {"a/+", "a", false},
      {"a/+", "a/b/c", false},
      {"a/+/c", "a//c", true},
      {"+/+", "/", true},
      {"/#", "/a", true},
      {"a//b", "a//b", true},
      {"a//b", "a/b", false},
      {"a/#", "a/b/c", true},
      {"#", "a", true},
      {"#", "a/b", true},
      {"$SYS/#", "$SYS/x", true},
      {"$SYS/+", "$SYS/x", true},
      // "sport/tennis/#" also matches "sport/tennis" (MQTT 4.7.1.2, non-normative).
      {"a/#", "a", true},
      // A wildcard first level never matches a '$' topic [MQTT-4.7.2-1].
      {"#", "$SYS/x", false},
      {"+/x", "$SYS/x", false},
      {"+", "$x", false},
      {"#", "x/$y", true},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(TopicRule::compile(c.rule, false).matches_topic(c.text, kNoValues), c.expected)
        << c.rule << " vs " << c.text;
  }
}

TEST(TopicRule, CoversWholeFilters) {
  const Case cases[] = {
      {"a/#", "a/#", true},
      {"a/#", "a/b", true},
      {"a/#", "a/+/c", true},
      {"a/#", "a", true},
      {"a/#", "#", false},
      {"a/#", "b", false},
      {"a/#", "+/b", false},
      {"a/+", "a/b", true},
      {"a/+", "a/+", true},
      {"a/+", "a/#", false},
      {"a/+", "a/b/c", false},
      {"a/b", "a/+", false},
      {"a/b", "a/b", true},
      {"+", "+", true},
      {"+", "#", false},
      {"#", "#", true},
      {"#", "+/x", true},
      {"$SYS/#", "$SYS/#", true},
      // A filter starting with a wildcard reaches no '$' topic, so "#" covers it;
      // a filter naming a '$' topic is not covered by a leading wildcard [MQTT-4.7.2-1].
      {"#", "$SYS/x", false},
      {"+/#", "$SYS/#", false},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(TopicRule::compile(c.rule, false).covers_filter(c.text, kNoValues), c.expected)
        << c.rule << " covers " << c.text;
  }
}

TEST(TopicRule, SubstitutesClientIdAndUsernameInPatterns) {
  const SubstitutionValues values{"c1", "bob"};
  const TopicRule device = TopicRule::compile("dev/%c/#", true);
  EXPECT_TRUE(device.uses_client_id());
  EXPECT_FALSE(device.uses_username());
  EXPECT_TRUE(device.matches_topic("dev/c1", values));
  EXPECT_TRUE(device.matches_topic("dev/c1/x/y", values));
  EXPECT_FALSE(device.matches_topic("dev/c2/x", values));
  EXPECT_FALSE(device.matches_topic("dev/c1x/y", values));

  const TopicRule mixed = TopicRule::compile("home-%u/%c%u", true);
  EXPECT_TRUE(mixed.uses_client_id() && mixed.uses_username());
  EXPECT_TRUE(mixed.matches_topic("home-bob/c1bob", values));
  EXPECT_FALSE(mixed.matches_topic("home-bob/c1", values));
  EXPECT_FALSE(mixed.matches_topic("home-bo/c1bob", values));

  EXPECT_TRUE(device.covers_filter("dev/c1/+", values));
  EXPECT_FALSE(device.covers_filter("dev/+/x", values));
}

TEST(TopicRule, TopicLinesKeepPercentSignsLiterally) {
  const TopicRule rule = TopicRule::compile("dev/%c", false);
  EXPECT_FALSE(rule.uses_client_id());
  EXPECT_TRUE(rule.matches_topic("dev/%c", SubstitutionValues{"c1", ""}));
  EXPECT_FALSE(rule.matches_topic("dev/c1", SubstitutionValues{"c1", ""}));
  // Other % sequences are text in patterns too.
  EXPECT_TRUE(TopicRule::compile("a/%x/%", true).matches_topic("a/%x/%", kNoValues));
}

// '#' only last and alone in its level: v311[MQTT-4.7.1-2] v5[MQTT-4.7.1-1];
// '+' alone in its level: v311[MQTT-4.7.1-3] v5[MQTT-4.7.1-2].
TEST(TopicRule, ValidatesFilters) {
  for (const std::string_view good : {"a", "#", "+", "a/+/b", "a/#", "/", "a//b", "$SYS/#", "a b"}) {
    EXPECT_TRUE(is_valid_acl_topic(good)) << good;
  }
  const std::string_view bad_topics[] = {"", "a/#/b", "a+", "a/b#", "#/a", std::string_view("a\0b", 3)};
  for (const std::string_view bad : bad_topics) {
    EXPECT_FALSE(is_valid_acl_topic(bad)) << bad;
  }
}

}  // namespace
}  // namespace stellwerk::auth

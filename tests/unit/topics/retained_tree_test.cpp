// RetainedTree: storing the last retained message per topic [MQTT-3.3.1-5],
// replacing [MQTT-3.3.1-7] and removing it [MQTT-3.3.1-10], and finding the
// retained topics a new subscription's filter covers [MQTT-3.3.1-6].
#include "topics/retained_tree.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

namespace stellwerk::topics {
namespace {

using testing::IsEmpty;
using testing::UnorderedElementsAre;
using Tree = RetainedTree<int>;

std::vector<std::string> matching(const Tree& tree, std::string_view filter) {
  std::vector<std::string> topics;
  tree.match(filter, [&](std::string_view topic, const int&) { topics.emplace_back(topic); });
  return topics;
}

Tree with_topics(std::initializer_list<std::string_view> topics) {
  Tree tree;
  int value = 0;
  for (std::string_view topic : topics) tree.set(topic, value++);
  return tree;
}

TEST(RetainedTree, SetFindReplaceErase) {
  Tree tree;
  EXPECT_EQ(tree.find("a/b"), nullptr);
  tree.set("a/b", 1);
  ASSERT_NE(tree.find("a/b"), nullptr);
  EXPECT_EQ(*tree.find("a/b"), 1);
  EXPECT_EQ(tree.find("a"), nullptr);  // an inner node holds no value
  tree.set("a/b", 2);
  EXPECT_EQ(*tree.find("a/b"), 2);
  EXPECT_EQ(tree.size(), 1u);
  EXPECT_FALSE(tree.erase("a"));
  EXPECT_TRUE(tree.erase("a/b"));
  EXPECT_FALSE(tree.erase("a/b"));
  EXPECT_EQ(tree.find("a/b"), nullptr);
  EXPECT_TRUE(tree.empty());
}

TEST(RetainedTree, ParentAndChildAreSeparateTopics) {
  Tree tree = with_topics({"a", "a/b", "a/", "/a"});
  EXPECT_EQ(tree.size(), 4u);
  EXPECT_EQ(*tree.find("a"), 0);
  EXPECT_EQ(*tree.find("a/b"), 1);
  EXPECT_EQ(*tree.find("a/"), 2);
  EXPECT_EQ(*tree.find("/a"), 3);
  EXPECT_TRUE(tree.erase("a"));
  EXPECT_EQ(*tree.find("a/b"), 1);
}

TEST(RetainedTree, ErasePrunesNodesLeftEmpty) {
  Tree tree = with_topics({"a/b/c", "a/x"});
  EXPECT_EQ(tree.node_count(), 4u);
  EXPECT_TRUE(tree.erase("a/b/c"));
  EXPECT_EQ(tree.node_count(), 2u);
  EXPECT_TRUE(tree.erase("a/x"));
  EXPECT_EQ(tree.node_count(), 0u);
}

TEST(RetainedTree, MatchExactFilter) {
  Tree tree = with_topics({"a/b", "a/c", "a/b/c"});
  EXPECT_THAT(matching(tree, "a/b"), UnorderedElementsAre("a/b"));
  EXPECT_THAT(matching(tree, "a"), IsEmpty());
  EXPECT_THAT(matching(tree, "A/b"), IsEmpty());  // [MQTT-4.7.3-4]
}

// [MQTT-4.7.1-3]: '+' is one level, empty included.
TEST(RetainedTree, MatchPlus) {
  Tree tree = with_topics({"a/b", "a/c", "a/b/c", "a/", "a", "/"});
  EXPECT_THAT(matching(tree, "a/+"), UnorderedElementsAre("a/b", "a/c", "a/"));
  EXPECT_THAT(matching(tree, "+/+"), UnorderedElementsAre("a/b", "a/c", "a/", "/"));
  EXPECT_THAT(matching(tree, "+"), UnorderedElementsAre("a"));
  EXPECT_THAT(matching(tree, "+/b/+"), UnorderedElementsAre("a/b/c"));
}

// [MQTT-4.7.1-2] (v5: [MQTT-4.7.1-1]): '#' covers the parent and every level below.
TEST(RetainedTree, MatchHash) {
  Tree tree = with_topics({"a", "a/b", "a/b/c", "b", "/a", "a//"});
  EXPECT_THAT(matching(tree, "a/#"), UnorderedElementsAre("a", "a/b", "a/b/c", "a//"));
  EXPECT_THAT(matching(tree, "#"), UnorderedElementsAre("a", "a/b", "a/b/c", "b", "/a", "a//"));
  EXPECT_THAT(matching(tree, "a/b/#"), UnorderedElementsAre("a/b", "a/b/c"));
  EXPECT_THAT(matching(tree, "+/#"), UnorderedElementsAre("a", "a/b", "a/b/c", "b", "/a", "a//"));
  EXPECT_THAT(matching(tree, "/#"), UnorderedElementsAre("/a"));
}

// [MQTT-4.7.2-1]: wildcards in the first level do not reach '$' topics.
TEST(RetainedTree, MatchSkipsDollarTopicsForLeadingWildcards) {
  Tree tree = with_topics({"$SYS/uptime", "$SYS", "a/$b", "x"});
  EXPECT_THAT(matching(tree, "#"), UnorderedElementsAre("a/$b", "x"));
  EXPECT_THAT(matching(tree, "+/uptime"), IsEmpty());
  EXPECT_THAT(matching(tree, "+"), UnorderedElementsAre("x"));
  EXPECT_THAT(matching(tree, "$SYS/#"), UnorderedElementsAre("$SYS", "$SYS/uptime"));
  EXPECT_THAT(matching(tree, "a/+"), UnorderedElementsAre("a/$b"));
}

TEST(RetainedTree, ForEachVisitsEveryTopicIncludingDollar) {
  Tree tree = with_topics({"$SYS/uptime", "a", "a/b", "/", "//x"});
  std::vector<std::string> topics;
  std::vector<int> values;
  tree.for_each([&](std::string_view topic, const int& value) {
    topics.emplace_back(topic);
    values.push_back(value);
  });
  EXPECT_THAT(topics, UnorderedElementsAre("$SYS/uptime", "a", "a/b", "/", "//x"));
  EXPECT_THAT(values, UnorderedElementsAre(0, 1, 2, 3, 4));
}

TEST(RetainedTree, ValuesReachTheVisitor) {
  Tree tree = with_topics({"a/1", "a/2"});
  int sum = 0;
  tree.match("a/+", [&](std::string_view, const int& value) { sum += value + 10; });
  EXPECT_EQ(sum, 21);
}

TEST(RetainedTree, ThousandsOfLevelsDoNotRecurse) {
  std::string deep;
  for (int i = 0; i < 20000; ++i) deep += "x/";
  deep += "end";
  Tree tree;
  tree.set(deep, 7);
  tree.set("x", 1);
  std::vector<std::string> topics = matching(tree, "x/#");
  EXPECT_THAT(topics, UnorderedElementsAre("x", deep));
  EXPECT_TRUE(tree.erase(deep));
  EXPECT_EQ(tree.node_count(), 1u);
}

TEST(RetainedTree, MovedTreeKeepsWorking) {
  Tree first = with_topics({"a/b"});
  Tree second(std::move(first));
  EXPECT_THAT(matching(second, "a/#"), UnorderedElementsAre("a/b"));
  EXPECT_TRUE(second.erase("a/b"));
  EXPECT_EQ(second.node_count(), 0u);
}

TEST(RetainedTree, HoldsMoveOnlyValues) {
  RetainedTree<std::unique_ptr<int>> tree;
  tree.set("a", std::make_unique<int>(1));
  tree.set("a", std::make_unique<int>(2));
  ASSERT_NE(tree.find("a"), nullptr);
  EXPECT_EQ(**tree.find("a"), 2);
  int seen = 0;
  tree.match("#", [&](std::string_view, const std::unique_ptr<int>& value) { seen += *value; });
  EXPECT_EQ(seen, 2);
}

}  // namespace
}  // namespace stellwerk::topics

// RetainedTree as a radix tree: chains of levels kept as one node, split and
// merged as topics come and go, leaves held inline when a KeyOf reads the
// topic from the value; and match_after's order and cursor, which the broker
// pages retained messages with [MQTT-3.3.1-6]. Each test runs on the plain
// tree (int values) and on the keyed one (shared items that carry their topic).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "topics/retained_tree.h"

namespace stellwerk::topics {
namespace {

using testing::ElementsAre;
using testing::IsEmpty;
using testing::UnorderedElementsAre;

struct Item {
  std::string topic;
  int number;
};
using ItemPtr = std::shared_ptr<const Item>;

struct PlainValues {
  using Tree = RetainedTree<int>;
  static int make(std::string_view, int number) { return number; }
  static int number(const int& value) { return value; }
};

struct KeyedValues {
  using Tree = RetainedTree<ItemPtr, TopicOfPointee>;
  static ItemPtr make(std::string_view topic, int number) {
    return std::make_shared<const Item>(Item{std::string(topic), number});
  }
  static int number(const ItemPtr& value) { return value->number; }
};

template <typename Values>
class CompactTree : public testing::Test {
 protected:
  using Tree = typename Values::Tree;

  void set(std::string_view topic, int number) { tree.set(topic, Values::make(topic, number)); }
  void set_all(std::initializer_list<std::string_view> topics) {
    int number = 0;
    for (std::string_view topic : topics) set(topic, number++);
  }
  std::optional<int> find(std::string_view topic) const {
    const auto* value = tree.find(topic);
    return value == nullptr ? std::nullopt : std::optional<int>(Values::number(*value));
  }
  std::vector<std::string> matching(std::string_view filter) const {
    std::vector<std::string> topics;
    tree.match(filter, [&](std::string_view topic, const auto&) { topics.emplace_back(topic); });
    return topics;
  }
  std::vector<std::string> page(std::string_view filter, std::optional<std::string_view> after,
                                size_t limit = 100, bool dollar_topics = false) const {
    std::vector<std::string> topics;
    tree.match_after(filter, after, dollar_topics, [&](std::string_view topic, const auto&) {
      topics.emplace_back(topic);
      return topics.size() < limit;
    });
    return topics;
  }

  Tree tree;
};

using ValueKinds = testing::Types<PlainValues, KeyedValues>;
TYPED_TEST_SUITE(CompactTree, ValueKinds);

TYPED_TEST(CompactTree, MatchAfterOrdersLevelByLevel) {
  this->set_all({"a-b", "b", "a/b", "a", "a/", "/x", ""});
  EXPECT_THAT(this->page("#", std::nullopt), ElementsAre("", "/x", "a", "a/", "a/b", "a-b", "b"));
}

TYPED_TEST(CompactTree, CursorIsExclusiveAndNeedNotExist) {
  this->set_all({"a-b", "b", "a/b", "a", "a/", "a/b/c/d"});
  EXPECT_THAT(this->page("#", "a"), ElementsAre("a/", "a/b", "a/b/c/d", "a-b", "b"));
  EXPECT_THAT(this->page("#", "a/b"), ElementsAre("a/b/c/d", "a-b", "b"));
  EXPECT_THAT(this->page("#", "a/b/c"), ElementsAre("a/b/c/d", "a-b", "b"));  // a prefix of a compressed edge
  EXPECT_THAT(this->page("#", "a/b/c/e"), ElementsAre("a-b", "b"));
  EXPECT_THAT(this->page("#", "a/a"), ElementsAre("a/b", "a/b/c/d", "a-b", "b"));
  EXPECT_THAT(this->page("#", "0"), ElementsAre("a", "a/", "a/b", "a/b/c/d", "a-b", "b"));
  EXPECT_THAT(this->page("#", "b"), IsEmpty());
  EXPECT_THAT(this->page("#", "c"), IsEmpty());
}

TYPED_TEST(CompactTree, PagesJoinUpToTheWholeOrder) {
  this->set_all({"x/1", "x/2/a", "x/2/b", "x/3", "y", "x", "x/2", "z/z/z"});
  const std::vector<std::string> whole = this->page("#", std::nullopt);
  ASSERT_EQ(whole.size(), 8u);
  std::vector<std::string> joined;
  std::optional<std::string> cursor;
  for (int pages = 0; pages < 10; ++pages) {  // bounded: a cursor that does not move must fail, not hang
    const std::vector<std::string> next = this->page("#", cursor, 3);
    if (next.empty()) break;
    joined.insert(joined.end(), next.begin(), next.end());
    cursor = next.back();
  }
  EXPECT_EQ(joined, whole);
}

// [MQTT-4.7.2-1], unless the caller asks for '$' topics (the admin API).
TYPED_TEST(CompactTree, MatchAfterHidesDollarTopicsFromLeadingWildcards) {
  this->set_all({"$SYS/uptime", "a/$b", "x", "$SYS"});
  EXPECT_THAT(this->page("#", std::nullopt), ElementsAre("a/$b", "x"));
  EXPECT_THAT(this->page("+/uptime", std::nullopt), IsEmpty());
  EXPECT_THAT(this->page("$SYS/#", std::nullopt), ElementsAre("$SYS", "$SYS/uptime"));
  EXPECT_THAT(this->page("#", std::nullopt, 100, true), ElementsAre("$SYS", "$SYS/uptime", "a/$b", "x"));
}

TYPED_TEST(CompactTree, MatchAfterFollowsTheFilter) {
  this->set_all({"a/b/c", "a/x/c", "a/b/d", "a/b", "b/b/c"});
  EXPECT_THAT(this->page("a/+/c", std::nullopt), ElementsAre("a/b/c", "a/x/c"));
  EXPECT_THAT(this->page("+/b/#", "a/b/c"), ElementsAre("a/b/d", "b/b/c"));
  EXPECT_THAT(this->page("a/b", std::nullopt), ElementsAre("a/b"));
}

TYPED_TEST(CompactTree, LevelCountFollowsSplitsAndMerges) {
  this->set("a/b/c/d", 1);
  EXPECT_EQ(this->tree.node_count(), 4u);
  this->set("a/b/x", 2);  // splits "a/b/c/d" after "a/b"
  EXPECT_EQ(this->tree.node_count(), 5u);
  this->set("a/b", 3);  // a value on the fork
  this->set("a", 4);    // splits the fork
  EXPECT_EQ(this->tree.node_count(), 5u);
  EXPECT_EQ(this->find("a/b/c/d"), 1);
  EXPECT_EQ(this->find("a/b/x"), 2);
  EXPECT_EQ(this->find("a/b"), 3);
  EXPECT_EQ(this->find("a"), 4);
  EXPECT_EQ(this->find("a/b/c"), std::nullopt);
  EXPECT_TRUE(this->tree.erase("a/b/x"));
  EXPECT_TRUE(this->tree.erase("a/b"));  // "a/b" merges with "c/d" again
  EXPECT_EQ(this->tree.node_count(), 4u);
  EXPECT_FALSE(this->tree.erase("a/b/c"));
  EXPECT_THAT(this->matching("a/b/c/+"), ElementsAre("a/b/c/d"));
  EXPECT_TRUE(this->tree.erase("a"));
  EXPECT_EQ(this->find("a/b/c/d"), 1);
  EXPECT_TRUE(this->tree.erase("a/b/c/d"));
  EXPECT_EQ(this->tree.node_count(), 0u);
  EXPECT_TRUE(this->tree.empty());
}

TYPED_TEST(CompactTree, LeafBecomesParentAndBackAgain) {
  this->set("a", 1);
  this->set("a/b", 2);
  this->set("a", 3);
  EXPECT_EQ(this->tree.size(), 2u);
  EXPECT_TRUE(this->tree.erase("a/b"));
  EXPECT_EQ(this->find("a"), 3);
  this->set("a", 4);
  EXPECT_EQ(this->find("a"), 4);
  EXPECT_EQ(this->tree.size(), 1u);
  EXPECT_THAT(this->matching("a/#"), ElementsAre("a"));
}

TYPED_TEST(CompactTree, EmptyLevelsAreLevels) {
  this->set_all({"", "/", "//", "a//", "a/"});
  EXPECT_EQ(this->find(""), 0);
  EXPECT_EQ(this->find("/"), 1);
  EXPECT_EQ(this->find("//"), 2);
  EXPECT_EQ(this->find("a//"), 3);
  EXPECT_EQ(this->find("a/"), 4);
  EXPECT_EQ(this->find("a"), std::nullopt);
  EXPECT_THAT(this->matching("+"), ElementsAre(""));
  EXPECT_THAT(this->matching("+/+"), UnorderedElementsAre("/", "a/"));
  EXPECT_THAT(this->matching("a/+/+"), ElementsAre("a//"));
  EXPECT_THAT(this->page("#", std::nullopt), ElementsAre("", "/", "//", "a/", "a//"));
  EXPECT_TRUE(this->tree.erase("/"));
  EXPECT_EQ(this->find("//"), 2);
  EXPECT_EQ(this->tree.node_count(), 6u);  // "", "/", "//", "a", "a/", "a//"
}

// Thousands of children: the table hashes, grows, and shrinks back.
TYPED_TEST(CompactTree, WideLevelGrowsAndShrinks) {
  for (int i = 0; i < 5000; ++i) this->set("w/" + std::to_string(i), i);
  for (int i = 0; i < 5000; ++i) ASSERT_EQ(this->find("w/" + std::to_string(i)), i);
  EXPECT_EQ(this->find("w/5000"), std::nullopt);
  EXPECT_EQ(this->matching("w/+").size(), 5000u);
  for (int i = 3; i < 5000; ++i) ASSERT_TRUE(this->tree.erase("w/" + std::to_string(i)));
  EXPECT_THAT(this->matching("w/+"), UnorderedElementsAre("w/0", "w/1", "w/2"));
  EXPECT_THAT(this->page("#", "w/0"), ElementsAre("w/1", "w/2"));
  EXPECT_EQ(this->tree.node_count(), 4u);
}

TYPED_TEST(CompactTree, DeepTopicsInOrderWithoutRecursion) {
  std::string deep;
  for (int i = 0; i < 20000; ++i) deep += "x/";
  this->set(deep + "b", 1);
  this->set(deep + "a", 2);
  this->set("x", 3);
  EXPECT_THAT(this->page("x/#", std::nullopt), ElementsAre("x", deep + "a", deep + "b"));
  EXPECT_THAT(this->page("x/#", deep + "a"), ElementsAre(deep + "b"));
  EXPECT_EQ(this->find(deep + "a"), 2);
  EXPECT_TRUE(this->tree.erase(deep + "a"));
  EXPECT_EQ(this->tree.node_count(), 20001u);  // "x", "x/x", ... and the "b" leaf
}

TYPED_TEST(CompactTree, MovedTreeKeepsInlineLeaves) {
  this->set_all({"a", "b/c", "b/d"});
  typename TestFixture::Tree moved(std::move(this->tree));
  EXPECT_EQ(moved.size(), 3u);
  EXPECT_NE(moved.find("b/d"), nullptr);
  typename TestFixture::Tree assigned;
  assigned.set("z", TypeParam::make("z", 9));
  assigned = std::move(moved);
  EXPECT_EQ(assigned.find("z"), nullptr);
  EXPECT_EQ(TypeParam::number(*assigned.find("b/c")), 1);
}

// The tree reports the topic it was given, even when the value names
// another one; such a value is kept in a node of its own.
TEST(KeyedRetainedTree, ValueNamingAnotherTopicStillWorks) {
  RetainedTree<ItemPtr, TopicOfPointee> tree;
  tree.set("a/b", KeyedValues::make("elsewhere", 1));
  tree.set("a/c", KeyedValues::make("a/c", 2));
  std::vector<std::string> topics;
  tree.match("a/+", [&](std::string_view topic, const ItemPtr&) { topics.emplace_back(topic); });
  EXPECT_THAT(topics, UnorderedElementsAre("a/b", "a/c"));
  tree.set("a/c", KeyedValues::make("other", 3));
  tree.set("a/b", KeyedValues::make("a/b", 4));
  EXPECT_EQ((*tree.find("a/c"))->number, 3);
  EXPECT_EQ((*tree.find("a/b"))->number, 4);
  EXPECT_TRUE(tree.erase("a/c"));
  EXPECT_TRUE(tree.erase("a/b"));
  EXPECT_EQ(tree.node_count(), 0u);
}

TEST(KeyedRetainedTree, HoldsMoveOnlyValues) {
  RetainedTree<std::unique_ptr<Item>, TopicOfPointee> tree;
  tree.set("a/b", std::make_unique<Item>(Item{"a/b", 1}));
  tree.set("a", std::make_unique<Item>(Item{"a", 2}));
  tree.set("a/b", std::make_unique<Item>(Item{"a/b", 3}));
  EXPECT_EQ((*tree.find("a/b"))->number, 3);
  int sum = 0;
  tree.for_each([&](std::string_view, const std::unique_ptr<Item>& item) { sum += item->number; });
  EXPECT_EQ(sum, 5);
}

}  // namespace
}  // namespace stellwerk::topics

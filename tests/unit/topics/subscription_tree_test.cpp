// SubscriptionTree: the matching rules of MQTT 4.7, shared subscriptions
// (4.8.2), replacement on re-subscribe, pruning on unsubscribe and the match cache.
//
// Statement ids are the 3.1.1 ones unless marked v5; the v5 text numbers the
// same '#' rule [MQTT-4.7.1-1] instead of [MQTT-4.7.1-2].
#include "topics/subscription_tree.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <tuple>
#include <vector>

namespace stellwerk::topics {
namespace {

using testing::ElementsAre;
using testing::IsEmpty;
using testing::UnorderedElementsAre;

struct Delivery {
  SubscriberId subscriber;
  std::string value;
  std::string group;
  bool operator==(const Delivery&) const = default;
};

void PrintTo(const Delivery& d, std::ostream* out) {
  *out << "{" << d.subscriber << ", \"" << d.value << "\", \"" << d.group << "\"}";
}

using Tree = SubscriptionTree<std::string>;

std::vector<Delivery> deliveries(Tree& tree, std::string_view topic) {
  std::vector<Delivery> out;
  tree.match(topic, [&](SubscriberId id, const std::string& value, std::string_view group) {
    out.push_back(Delivery{id, value, std::string(group)});
  });
  return out;
}

// Subscribes subscriber 1 to `filter` and reports whether `topic` reaches it.
bool matches(std::string_view filter, std::string_view topic) {
  Tree tree;
  EXPECT_TRUE(tree.subscribe(filter, 1, std::string(filter)));
  return !deliveries(tree, topic).empty();
}

TEST(SubscriptionTreeMatch, ExactFilterMatchesOnlyItsTopic) {
  EXPECT_TRUE(matches("a/b", "a/b"));
  EXPECT_FALSE(matches("a/b", "a"));
  EXPECT_FALSE(matches("a/b", "a/b/c"));
  EXPECT_FALSE(matches("a/b", "a/c"));
}

// [MQTT-4.7.3-4]: no normalisation; levels compare byte for byte.
TEST(SubscriptionTreeMatch, LevelsCompareByteExact) {
  EXPECT_FALSE(matches("a/B", "a/b"));
  EXPECT_FALSE(matches("a/b ", "a/b"));
  EXPECT_FALSE(matches("caf\xc3\xa9", "cafe\xcc\x81"));
  EXPECT_TRUE(matches("caf\xc3\xa9", "caf\xc3\xa9"));
}

// [MQTT-4.7.1-3]: '+' occupies exactly one level, the first or last included.
TEST(SubscriptionTreeMatch, PlusMatchesExactlyOneLevel) {
  EXPECT_TRUE(matches("a/+", "a/b"));
  EXPECT_TRUE(matches("+/b", "a/b"));
  EXPECT_TRUE(matches("a/+/c", "a/x/c"));
  EXPECT_FALSE(matches("a/+", "a"));
  EXPECT_FALSE(matches("a/+", "a/b/c"));
  EXPECT_TRUE(matches("+", "a"));
  EXPECT_FALSE(matches("+", "a/b"));
}

// MQTT 4.7.1.3: "+" matches an empty level, so "+/+" and "/+" match "/".
TEST(SubscriptionTreeMatch, PlusMatchesAnEmptyLevel) {
  EXPECT_TRUE(matches("a/+", "a/"));
  EXPECT_TRUE(matches("+/+", "/"));
  EXPECT_TRUE(matches("/+", "/"));
  EXPECT_TRUE(matches("a/+/b", "a//b"));
  EXPECT_FALSE(matches("+", "/"));
}

// [MQTT-4.7.1-2] (v5: [MQTT-4.7.1-1]): '#' matches the parent level and any
// number of child levels.
TEST(SubscriptionTreeMatch, HashMatchesParentAndAllDescendants) {
  EXPECT_TRUE(matches("a/#", "a"));
  EXPECT_TRUE(matches("a/#", "a/b"));
  EXPECT_TRUE(matches("a/#", "a/b/c/d"));
  EXPECT_TRUE(matches("a/#", "a/"));
  EXPECT_FALSE(matches("a/#", "b"));
  EXPECT_FALSE(matches("a/#", "ab"));
  EXPECT_TRUE(matches("a/+/#", "a/b"));
  EXPECT_FALSE(matches("a/+/#", "a"));
}

TEST(SubscriptionTreeMatch, HashAloneMatchesEverything) {
  EXPECT_TRUE(matches("#", "a"));
  EXPECT_TRUE(matches("#", "a/b/c"));
  EXPECT_TRUE(matches("#", "/"));
  EXPECT_TRUE(matches("#", "/a"));
}

// [MQTT-4.7.2-1]: filters starting with a wildcard do not match '$' topics.
TEST(SubscriptionTreeMatch, WildcardFirstLevelSkipsDollarTopics) {
  EXPECT_FALSE(matches("#", "$SYS/broker/uptime"));
  EXPECT_FALSE(matches("+/broker/uptime", "$SYS/broker/uptime"));
  EXPECT_FALSE(matches("+/#", "$SYS"));
  EXPECT_FALSE(matches("#", "$"));
  EXPECT_TRUE(matches("$SYS/#", "$SYS/broker/uptime"));
  EXPECT_TRUE(matches("$SYS/+/uptime", "$SYS/broker/uptime"));
  EXPECT_TRUE(matches("$SYS", "$SYS"));
  // Only the first level counts.
  EXPECT_TRUE(matches("a/+", "a/$b"));
  EXPECT_TRUE(matches("a/#", "a/$b"));
  EXPECT_TRUE(matches("+/$b", "a/$b"));
}

TEST(SubscriptionTreeMatch, EmptyLevelsAreRealLevels) {
  EXPECT_TRUE(matches("/a", "/a"));
  EXPECT_FALSE(matches("a", "/a"));
  EXPECT_TRUE(matches("+/a", "/a"));
  EXPECT_TRUE(matches("a//b", "a//b"));
  EXPECT_FALSE(matches("a/b", "a//b"));
  EXPECT_FALSE(matches("a//b", "a/b"));
  EXPECT_TRUE(matches("a/", "a/"));
  EXPECT_FALSE(matches("a/", "a"));
}

TEST(SubscriptionTreeMatch, VisitsEachMatchingFilterOfASubscriberOnce) {
  Tree tree;
  EXPECT_TRUE(tree.subscribe("a/b", 1, "a/b"));
  EXPECT_TRUE(tree.subscribe("a/+", 1, "a/+"));
  EXPECT_TRUE(tree.subscribe("#", 1, "#"));
  EXPECT_TRUE(tree.subscribe("a/#", 2, "a/#"));
  EXPECT_TRUE(tree.subscribe("b/#", 3, "b/#"));
  EXPECT_THAT(deliveries(tree, "a/b"), UnorderedElementsAre(Delivery{1, "a/b", ""}, Delivery{1, "a/+", ""},
                                                            Delivery{1, "#", ""}, Delivery{2, "a/#", ""}));
  EXPECT_THAT(deliveries(tree, "c"), ElementsAre(Delivery{1, "#", ""}));
}

// [MQTT-3.8.4-3]: the same filter again replaces the subscription.
TEST(SubscriptionTreeSubscribe, SameFilterReplacesValue) {
  Tree tree;
  EXPECT_TRUE(tree.subscribe("a/+", 7, "qos0"));
  EXPECT_FALSE(tree.subscribe("a/+", 7, "qos2"));
  EXPECT_EQ(tree.size(), 1u);
  EXPECT_THAT(deliveries(tree, "a/x"), ElementsAre(Delivery{7, "qos2", ""}));
}

TEST(SubscriptionTreeSubscribe, SizeCountsFilterSubscriberPairs) {
  Tree tree;
  EXPECT_TRUE(tree.empty());
  EXPECT_TRUE(tree.subscribe("a", 1, ""));
  EXPECT_TRUE(tree.subscribe("a", 2, ""));
  EXPECT_TRUE(tree.subscribe("b", 1, ""));
  EXPECT_TRUE(tree.subscribe("$share/g/a", 1, ""));
  EXPECT_TRUE(tree.subscribe("$share/h/a", 1, ""));
  EXPECT_FALSE(tree.subscribe("$share/g/a", 1, "again"));
  EXPECT_EQ(tree.size(), 5u);
}

// Past 16 subscribers on one filter an index takes over; replacing and
// removing must behave the same on both sides of that line.
TEST(SubscriptionTreeSubscribe, ManySubscribersOnOneFilter) {
  Tree tree;
  for (SubscriberId id = 0; id < 100; ++id) EXPECT_TRUE(tree.subscribe("a", id, "first"));
  for (SubscriberId id = 0; id < 100; id += 2) EXPECT_FALSE(tree.subscribe("a", id, "second"));
  for (SubscriberId id = 1; id < 100; id += 2) EXPECT_TRUE(tree.unsubscribe("a", id));
  EXPECT_FALSE(tree.unsubscribe("a", 1));
  std::vector<Delivery> got = deliveries(tree, "a");
  ASSERT_EQ(got.size(), 50u);
  for (const Delivery& d : got) {
    EXPECT_EQ(d.subscriber % 2, 0u);
    EXPECT_EQ(d.value, "second");
  }
  for (SubscriberId id = 0; id < 100; id += 2) EXPECT_TRUE(tree.unsubscribe("a", id));
  EXPECT_TRUE(tree.empty());
  EXPECT_EQ(tree.node_count(), 0u);
}

// [MQTT-3.10.4-1]: unsubscribe compares the filter character by character.
TEST(SubscriptionTreeUnsubscribe, RemovesOnlyTheExactFilter) {
  Tree tree;
  EXPECT_TRUE(tree.subscribe("a/+", 1, "a/+"));
  EXPECT_TRUE(tree.subscribe("a/b", 1, "a/b"));
  EXPECT_FALSE(tree.unsubscribe("a/#", 1));
  EXPECT_FALSE(tree.unsubscribe("a/c", 1));
  EXPECT_FALSE(tree.unsubscribe("a/+", 2));
  EXPECT_TRUE(tree.unsubscribe("a/+", 1));
  EXPECT_FALSE(tree.unsubscribe("a/+", 1));
  EXPECT_THAT(deliveries(tree, "a/b"), ElementsAre(Delivery{1, "a/b", ""}));
  EXPECT_THAT(deliveries(tree, "a/c"), IsEmpty());
}

TEST(SubscriptionTreeUnsubscribe, PrunesNodesLeftEmpty) {
  Tree tree;
  EXPECT_TRUE(tree.subscribe("a/b/c/d", 1, ""));
  EXPECT_TRUE(tree.subscribe("a/b", 2, ""));
  EXPECT_TRUE(tree.subscribe("a/+/#", 3, ""));
  EXPECT_TRUE(tree.subscribe("$share/g/a/b/x", 4, ""));
  EXPECT_EQ(tree.node_count(), 7u);  // a, b, c, d, +, #, x

  EXPECT_TRUE(tree.unsubscribe("a/b/c/d", 1));
  EXPECT_EQ(tree.node_count(), 5u);  // c and d go, b stays for subscriber 2
  EXPECT_TRUE(tree.unsubscribe("a/+/#", 3));
  EXPECT_EQ(tree.node_count(), 3u);
  EXPECT_TRUE(tree.unsubscribe("$share/g/a/b/x", 4));
  EXPECT_EQ(tree.node_count(), 2u);
  EXPECT_TRUE(tree.unsubscribe("a/b", 2));
  EXPECT_EQ(tree.node_count(), 0u);
  EXPECT_TRUE(tree.empty());
  EXPECT_THAT(deliveries(tree, "a/b"), IsEmpty());
}

TEST(SubscriptionTreeUnsubscribe, PrunesEmptyLevelsAndRootWildcards) {
  Tree tree;
  EXPECT_TRUE(tree.subscribe("//", 1, ""));
  EXPECT_TRUE(tree.subscribe("#", 1, ""));
  EXPECT_TRUE(tree.subscribe("+", 1, ""));
  EXPECT_EQ(tree.node_count(), 5u);
  EXPECT_TRUE(tree.unsubscribe("//", 1));
  EXPECT_TRUE(tree.unsubscribe("#", 1));
  EXPECT_TRUE(tree.unsubscribe("+", 1));
  EXPECT_EQ(tree.node_count(), 0u);
}

TEST(SubscriptionTreeTopics, ThousandsOfLevelsDoNotRecurse) {
  std::string deep;
  for (int i = 0; i < 20000; ++i) deep += "x/";
  deep += "end";
  Tree tree;
  EXPECT_TRUE(tree.subscribe(deep, 1, "deep"));
  EXPECT_TRUE(tree.subscribe("x/#", 2, "hash"));
  EXPECT_THAT(deliveries(tree, deep), UnorderedElementsAre(Delivery{1, "deep", ""}, Delivery{2, "hash", ""}));
  EXPECT_TRUE(tree.unsubscribe(deep, 1));
  EXPECT_EQ(tree.node_count(), 2u);
}

TEST(SubscriptionTreeTopics, MovedTreeKeepsWorking) {
  Tree first;
  EXPECT_TRUE(first.subscribe("a/b", 1, "v"));
  Tree second(std::move(first));
  EXPECT_THAT(deliveries(second, "a/b"), ElementsAre(Delivery{1, "v", ""}));
  EXPECT_TRUE(second.unsubscribe("a/b", 1));
  EXPECT_EQ(second.node_count(), 0u);
}

// The broker stores per-subscription options or shared message handles; the
// tree only needs values it can move.
TEST(SubscriptionTreeTopics, HoldsMoveOnlyValues) {
  SubscriptionTree<std::unique_ptr<int>> tree;
  for (SubscriberId id = 0; id < 40; ++id)
    EXPECT_TRUE(tree.subscribe("a/+", id, std::make_unique<int>(int(id))));
  EXPECT_FALSE(tree.subscribe("a/+", 3, std::make_unique<int>(300)));
  EXPECT_TRUE(tree.subscribe("$share/g/a/b", 1, std::make_unique<int>(-1)));
  for (SubscriberId id = 0; id < 40; id += 2) EXPECT_TRUE(tree.unsubscribe("a/+", id));
  int sum = 0;
  tree.match("a/b",
             [&](SubscriberId, const std::unique_ptr<int>& value, std::string_view) { sum += *value; });
  EXPECT_EQ(sum, 400 - 3 + 300 - 1);  // odd ids 1..39 sum to 400
}

// The match cache: a topic matched again gives what a fresh walk would,
// whatever changed in between.
TEST(SubscriptionTreeCache, ARepeatedMatchSeesANewSubscription) {
  Tree tree;
  EXPECT_TRUE(tree.subscribe("a/+", 1, "plus"));
  EXPECT_THAT(deliveries(tree, "a/b"), ElementsAre(Delivery{1, "plus", ""}));
  EXPECT_TRUE(tree.subscribe("a/#", 2, "hash"));
  EXPECT_THAT(deliveries(tree, "a/b"),
              UnorderedElementsAre(Delivery{1, "plus", ""}, Delivery{2, "hash", ""}));
}

TEST(SubscriptionTreeCache, ARepeatedMatchSeesAReplacedValueAndAnUnsubscribe) {
  Tree tree;
  EXPECT_TRUE(tree.subscribe("a/b", 1, "first"));
  EXPECT_TRUE(tree.subscribe("a/b", 2, "other"));
  EXPECT_THAT(deliveries(tree, "a/b"), ElementsAre(Delivery{1, "first", ""}, Delivery{2, "other", ""}));
  EXPECT_FALSE(tree.subscribe("a/b", 1, "second"));
  EXPECT_THAT(deliveries(tree, "a/b"),
              UnorderedElementsAre(Delivery{1, "second", ""}, Delivery{2, "other", ""}));
  EXPECT_TRUE(tree.unsubscribe("a/b", 2));
  EXPECT_THAT(deliveries(tree, "a/b"), ElementsAre(Delivery{1, "second", ""}));
  EXPECT_TRUE(tree.unsubscribe("a/b", 1));
  EXPECT_THAT(deliveries(tree, "a/b"), IsEmpty());
}

// [MQTT-4.8.2-1] (v5): each message of a shared subscription goes to one
// member; repeated messages on one topic still take turns.
TEST(SubscriptionTreeCache, SharedGroupsStillTakeTurnsOnARepeatedTopic) {
  Tree tree;
  EXPECT_TRUE(tree.subscribe("$share/g/a/b", 1, "m1"));
  EXPECT_TRUE(tree.subscribe("$share/g/a/b", 2, "m2"));
  EXPECT_TRUE(tree.subscribe("a/b", 3, "direct"));
  EXPECT_THAT(deliveries(tree, "a/b"),
              UnorderedElementsAre(Delivery{3, "direct", ""}, Delivery{1, "m1", "g"}));
  EXPECT_THAT(deliveries(tree, "a/b"),
              UnorderedElementsAre(Delivery{3, "direct", ""}, Delivery{2, "m2", "g"}));
  EXPECT_THAT(deliveries(tree, "a/b"),
              UnorderedElementsAre(Delivery{3, "direct", ""}, Delivery{1, "m1", "g"}));
}

// A topic matched again gets its matches in subscriber order, whatever the
// order they subscribed in, so that Broker::route need not sort them.
TEST(SubscriptionTreeCache, ARepeatedMatchComesInSubscriberOrder) {
  Tree tree;
  EXPECT_TRUE(tree.subscribe("a/b", 3, "three"));
  EXPECT_TRUE(tree.subscribe("a/#", 1, "one"));
  EXPECT_TRUE(tree.subscribe("a/b", 2, "two"));
  EXPECT_TRUE(tree.subscribe("a/+", 3, "three again"));
  EXPECT_THAT(deliveries(tree, "a/b"),
              UnorderedElementsAre(Delivery{1, "one", ""}, Delivery{2, "two", ""}, Delivery{3, "three", ""},
                                   Delivery{3, "three again", ""}));
  const auto again = deliveries(tree, "a/b");
  ASSERT_EQ(again.size(), 4u);
  for (size_t i = 1; i < again.size(); ++i) EXPECT_LE(again[i - 1].subscriber, again[i].subscriber) << i;
}

// More topics than the cache has slots, each matched twice in turn: topics
// that share a slot evict each other and must never answer for each other.
TEST(SubscriptionTreeCache, TopicsSharingASlotKeepTheirOwnMatches) {
  Tree tree;
  constexpr SubscriberId kTopics = 5000;
  for (SubscriberId id = 0; id < kTopics; ++id)
    EXPECT_TRUE(tree.subscribe("t/" + std::to_string(id), id, "v"));
  for (int round = 0; round < 2; ++round) {
    for (SubscriberId id = 0; id < kTopics; ++id) {
      const auto found = deliveries(tree, "t/" + std::to_string(id));
      ASSERT_EQ(found.size(), 1u) << id;
      EXPECT_EQ(found[0].subscriber, id);
    }
  }
  EXPECT_THAT(deliveries(tree, "t/none"), IsEmpty());
}

}  // namespace
}  // namespace stellwerk::topics

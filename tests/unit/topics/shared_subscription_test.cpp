// Shared subscriptions (v5 4.8.2): one delivery per matching group, chosen
// round-robin, preferring members the broker can deliver to now.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

#include "topics/subscription_tree.h"

namespace stellwerk::topics {
namespace {

using Tree = SubscriptionTree<int>;

struct Pick {
  SubscriberId member;
  std::string group;
};

std::vector<Pick> picks(Tree& tree, std::string_view topic, const std::set<SubscriberId>& eligible) {
  std::vector<Pick> out;
  tree.match(
      topic,
      [&](SubscriberId id, const int&, std::string_view group) {
        out.push_back(Pick{id, std::string(group)});
      },
      [&](SubscriberId id) { return eligible.contains(id); });
  return out;
}

// The member chosen for each of `rounds` publishes to `topic`, all eligible.
std::vector<SubscriberId> rotation(Tree& tree, std::string_view topic, int rounds) {
  std::vector<SubscriberId> chosen;
  for (int i = 0; i < rounds; ++i) {
    tree.match(topic, [&](SubscriberId id, const int&, std::string_view group) {
      EXPECT_FALSE(group.empty());
      chosen.push_back(id);
    });
  }
  return chosen;
}

TEST(SharedSubscription, RoundRobinInSubscriptionOrder) {
  Tree tree;
  EXPECT_TRUE(tree.subscribe("$share/g/jobs/+", 10, 0));
  EXPECT_TRUE(tree.subscribe("$share/g/jobs/+", 20, 0));
  EXPECT_TRUE(tree.subscribe("$share/g/jobs/+", 30, 0));
  EXPECT_THAT(rotation(tree, "jobs/1", 7), testing::ElementsAre(10, 20, 30, 10, 20, 30, 10));
}

TEST(SharedSubscription, GroupNameIsReportedAndValueIsTheMembers) {
  Tree tree;
  EXPECT_TRUE(tree.subscribe("$share/workers/a", 1, 11));
  EXPECT_TRUE(tree.subscribe("$share/workers/a", 2, 22));
  std::vector<std::pair<SubscriberId, int>> seen;
  for (int i = 0; i < 2; ++i) {
    tree.match("a", [&](SubscriberId id, const int& value, std::string_view group) {
      EXPECT_EQ(group, "workers");
      seen.emplace_back(id, value);
    });
  }
  EXPECT_THAT(seen,
              testing::ElementsAre(std::pair<SubscriberId, int>{1, 11}, std::pair<SubscriberId, int>{2, 22}));
}

TEST(SharedSubscription, EachMatchingGroupDeliversOnce) {
  Tree tree;
  EXPECT_TRUE(tree.subscribe("$share/g/a/+", 1, 0));
  EXPECT_TRUE(tree.subscribe("$share/g/a/+", 2, 0));
  EXPECT_TRUE(tree.subscribe("$share/h/a/+", 3, 0));
  EXPECT_TRUE(tree.subscribe("$share/g/a/#", 4, 0));  // same name, other filter: another group
  EXPECT_TRUE(tree.subscribe("a/+", 1, 0));           // non-shared beside shared
  std::vector<Pick> got = picks(tree, "a/b", {1, 2, 3, 4});
  std::multiset<std::string> groups;
  for (const Pick& p : got) groups.insert(p.group);
  EXPECT_EQ(groups, (std::multiset<std::string>{"", "g", "g", "h"}));
}

TEST(SharedSubscription, SkipsIneligibleMembers) {
  Tree tree;
  for (SubscriberId id : {1, 2, 3, 4}) EXPECT_TRUE(tree.subscribe("$share/g/t", id, 0));
  std::vector<SubscriberId> chosen;
  for (int i = 0; i < 4; ++i) chosen.push_back(picks(tree, "t", {2, 4}).at(0).member);
  EXPECT_THAT(chosen, testing::ElementsAre(2, 4, 2, 4));
}

TEST(SharedSubscription, RotationResumesAfterTheChosenMember) {
  Tree tree;
  for (SubscriberId id : {1, 2, 3}) EXPECT_TRUE(tree.subscribe("$share/g/t", id, 0));
  EXPECT_EQ(picks(tree, "t", {3}).at(0).member, 3u);
  // 3 was chosen, so the turn passes to 1.
  EXPECT_EQ(picks(tree, "t", {1, 2, 3}).at(0).member, 1u);
  EXPECT_EQ(picks(tree, "t", {1, 2, 3}).at(0).member, 2u);
}

TEST(SharedSubscription, NoEligibleMemberStillDeliversInTurn) {
  Tree tree;
  for (SubscriberId id : {1, 2, 3}) EXPECT_TRUE(tree.subscribe("$share/g/t", id, 0));
  std::vector<SubscriberId> chosen;
  for (int i = 0; i < 4; ++i) chosen.push_back(picks(tree, "t", {}).at(0).member);
  EXPECT_THAT(chosen, testing::ElementsAre(1, 2, 3, 1));
}

TEST(SharedSubscription, LeavingMemberKeepsTheTurnOrder) {
  Tree tree;
  for (SubscriberId id : {1, 2, 3, 4}) EXPECT_TRUE(tree.subscribe("$share/g/t", id, 0));
  EXPECT_THAT(rotation(tree, "t", 2), testing::ElementsAre(1, 2));
  EXPECT_TRUE(tree.unsubscribe("$share/g/t", 1));  // before the cursor
  EXPECT_THAT(rotation(tree, "t", 3), testing::ElementsAre(3, 4, 2));
  EXPECT_TRUE(tree.unsubscribe("$share/g/t", 3));  // at the cursor
  EXPECT_THAT(rotation(tree, "t", 2), testing::ElementsAre(4, 2));
  EXPECT_TRUE(tree.unsubscribe("$share/g/t", 4));  // at the cursor and last: the turn wraps
  EXPECT_THAT(rotation(tree, "t", 2), testing::ElementsAre(2, 2));
}

TEST(SharedSubscription, ReSubscribeKeepsThePlaceInTurn) {
  Tree tree;
  for (SubscriberId id : {1, 2, 3}) EXPECT_TRUE(tree.subscribe("$share/g/t", id, 0));
  EXPECT_FALSE(tree.subscribe("$share/g/t", 1, 5));
  EXPECT_THAT(rotation(tree, "t", 3), testing::ElementsAre(1, 2, 3));
}

TEST(SharedSubscription, UnsubscribeNeedsTheSameGroup) {
  Tree tree;
  EXPECT_TRUE(tree.subscribe("$share/g/t", 1, 0));
  EXPECT_FALSE(tree.unsubscribe("$share/h/t", 1));
  EXPECT_FALSE(tree.unsubscribe("t", 1));
  EXPECT_FALSE(tree.unsubscribe("$share/g/t", 2));
  EXPECT_TRUE(tree.unsubscribe("$share/g/t", 1));
  EXPECT_EQ(tree.node_count(), 0u);
  EXPECT_THAT(rotation(tree, "t", 1), testing::IsEmpty());
}

// [MQTT-4.7.2-1] applies to the filter inside the share as well.
TEST(SharedSubscription, WildcardFilterSkipsDollarTopics) {
  Tree tree;
  EXPECT_TRUE(tree.subscribe("$share/g/#", 1, 0));
  EXPECT_THAT(rotation(tree, "$SYS/load", 1), testing::IsEmpty());
  EXPECT_THAT(rotation(tree, "load", 1), testing::ElementsAre(1));
}

TEST(SharedSubscription, LargeGroupRotatesThroughEveryone) {
  Tree tree;
  for (SubscriberId id = 0; id < 40; ++id) EXPECT_TRUE(tree.subscribe("$share/g/t", id, 0));
  for (SubscriberId id = 0; id < 40; id += 4) EXPECT_TRUE(tree.unsubscribe("$share/g/t", id));
  std::vector<SubscriberId> chosen = rotation(tree, "t", 30);
  std::vector<SubscriberId> expected;
  for (SubscriberId id = 0; id < 40; ++id) {
    if (id % 4 != 0) expected.push_back(id);
  }
  EXPECT_EQ(chosen, expected);
}

}  // namespace
}  // namespace stellwerk::topics

// SubscriptionList: a short list is scanned, a long one indexed; both must
// answer the same, through additions, replacements and removals that move
// the last entry into the hole.
#include "session/subscription_list.h"

#include <gtest/gtest.h>

#include <map>
#include <random>
#include <string>

namespace stellwerk::session {
namespace {

Subscription with_qos(mqtt::QoS qos, uint32_t identifier = 0) {
  Subscription s;
  s.options.max_qos = qos;
  s.identifier = identifier;
  return s;
}

TEST(SubscriptionList, NewFiltersAreNewAndRepeatedOnesReplace) {
  SubscriptionList list;
  EXPECT_TRUE(list.insert_or_assign("a/b", with_qos(mqtt::QoS::at_most_once)));
  EXPECT_TRUE(list.insert_or_assign("a/+", with_qos(mqtt::QoS::at_least_once)));
  EXPECT_FALSE(list.insert_or_assign("a/b", with_qos(mqtt::QoS::exactly_once, 7)));
  EXPECT_EQ(list.size(), 2u);
  ASSERT_NE(list.find("a/b"), nullptr);
  EXPECT_EQ(list.find("a/b")->options.max_qos, mqtt::QoS::exactly_once);
  EXPECT_EQ(list.find("a/b")->identifier, 7u);
  EXPECT_EQ(list.find("a"), nullptr);
}

TEST(SubscriptionList, RemovingKeepsTheOthersFindable) {
  SubscriptionList list;
  for (const char* filter : {"x", "y", "z"}) list.insert_or_assign(filter, {});
  EXPECT_TRUE(list.erase("x"));  // "z" moves into its place
  EXPECT_FALSE(list.erase("x"));
  EXPECT_NE(list.find("y"), nullptr);
  EXPECT_NE(list.find("z"), nullptr);
  EXPECT_EQ(list.size(), 2u);
  EXPECT_TRUE(list.erase("z"));
  EXPECT_TRUE(list.erase("y"));
  EXPECT_TRUE(list.empty());
  EXPECT_EQ(list.begin(), list.end());
}

// Random additions and removals around the index threshold, checked
// against a std::map after every step.
TEST(SubscriptionList, AgreesWithAMapAcrossTheIndexThreshold) {
  std::mt19937 random(12345);
  SubscriptionList list;
  std::map<std::string, uint32_t> model;
  for (int step = 0; step < 4000; ++step) {
    // A pool a little larger than the threshold, with filters longer than
    // a short string so their characters live on the heap.
    const std::string filter =
        "devices/site-" + std::to_string(random() % (SubscriptionList::kIndexFrom * 3)) + "/state";
    const uint32_t identifier = static_cast<uint32_t>(step);
    if (random() % 3 == 0) {
      EXPECT_EQ(list.erase(filter), model.erase(filter) == 1) << step;
    } else {
      const bool is_new = model.insert_or_assign(filter, identifier).second;
      EXPECT_EQ(list.insert_or_assign(filter, with_qos(mqtt::QoS::at_least_once, identifier)), is_new)
          << step;
    }
    ASSERT_EQ(list.size(), model.size()) << step;
    for (const auto& [f, id] : model) {
      const Subscription* found = list.find(f);
      ASSERT_NE(found, nullptr) << f << " at step " << step;
      ASSERT_EQ(found->identifier, id) << f;
    }
  }
  size_t visited = 0;
  for (const auto& [filter, subscription] : list) {
    EXPECT_EQ(model.at(filter), subscription.identifier);
    ++visited;
  }
  EXPECT_EQ(visited, model.size());
}

}  // namespace
}  // namespace stellwerk::session

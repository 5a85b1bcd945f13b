// RetainedIndex against an obviously correct oracle (std::map by topic):
// random inserts, replacements and erases at the fill where long runs of
// collisions form, so that backward-shift deletion is exercised with holes
// in every position of a run, the wrap-around at the array's end included.
#include "store/retained_index.h"

#include <gtest/gtest.h>

#include <map>
#include <random>
#include <string>

#include "store_test_util.h"

namespace stellwerk::store {
namespace {

session::MessagePtr message(const std::string& topic, const std::string& payload = "p") {
  return testing::make_message(topic, payload, mqtt::QoS::at_most_once, true);
}

void expect_same(const RetainedIndex& index, const std::map<std::string, session::MessagePtr>& oracle) {
  ASSERT_EQ(index.size(), oracle.size());
  for (const auto& [topic, expected] : oracle) {
    const session::MessagePtr* found = index.find(topic);
    ASSERT_NE(found, nullptr) << topic;
    EXPECT_EQ(*found, expected) << topic;
  }
  size_t visited = 0;
  for (const session::MessagePtr& held : index) {
    ++visited;
    EXPECT_EQ(oracle.at(std::string(held->topic())), held);
  }
  EXPECT_EQ(visited, oracle.size());
}

TEST(RetainedIndex, EmptyFindsNothing) {
  RetainedIndex index;
  EXPECT_EQ(index.find("a"), nullptr);
  EXPECT_FALSE(index.erase("a"));
  EXPECT_EQ(index.begin(), index.end());
}

TEST(RetainedIndex, InsertKeepsTheFirstAndReturnsItsSlot) {
  RetainedIndex index;
  const session::MessagePtr first = message("a/b", "1");
  EXPECT_TRUE(index.insert(first).second);
  auto [slot, inserted] = index.insert(message("a/b", "2"));
  EXPECT_FALSE(inserted);
  EXPECT_EQ(*slot, first);
  // A replacement writes the slot in place.
  const session::MessagePtr second = message("a/b", "2");
  *slot = second;
  EXPECT_EQ(*index.find("a/b"), second);
  EXPECT_EQ(index.size(), 1u);
}

TEST(RetainedIndex, HoldsEachMessageByOneReference) {
  RetainedIndex index;
  const session::MessagePtr held = message("t");
  index.insert(held);
  EXPECT_EQ(held.use_count(), 2u);
  index.erase("t");
  EXPECT_EQ(held.use_count(), 1u);
}

TEST(RetainedIndex, MatchesAMapUnderRandomChanges) {
  std::mt19937 random(4);
  std::map<std::string, session::MessagePtr> oracle;
  RetainedIndex index;
  // 300 topics over ~100 live keeps the table near its growth threshold.
  std::uniform_int_distribution<int> topic_number(0, 299), action(0, 2);
  for (int step = 0; step < 20000; ++step) {
    const std::string topic = "site/" + std::to_string(topic_number(random));
    if (action(random) == 0 || oracle.size() > 120) {
      EXPECT_EQ(index.erase(topic), oracle.erase(topic) == 1) << step;
      continue;
    }
    session::MessagePtr fresh = message(topic, std::to_string(step));
    auto [slot, inserted] = index.insert(fresh);
    if (!inserted) *slot = fresh;
    EXPECT_EQ(inserted, !oracle.contains(topic)) << step;
    oracle[topic] = fresh;
    if (step % 997 == 0) expect_same(index, oracle);
  }
  expect_same(index, oracle);
}

TEST(RetainedIndex, GrowsByHalfAndFillsUpToSevenEighths) {
  RetainedIndex index;
  size_t grew_from = 0;
  for (int i = 0; i < 10000; ++i) {
    const size_t before = index.capacity();
    index.insert(message("device/" + std::to_string(i)));
    if (index.capacity() != before && before != 0) {
      EXPECT_EQ(index.capacity(), before + before / 2);
      grew_from = before;
    }
    EXPECT_LE(index.size(), index.capacity() - index.capacity() / 8);
  }
  EXPECT_GT(grew_from, 0u);
}

TEST(RetainedIndex, ReserveAvoidsGrowingAndInsertNewSkipsComparisons) {
  RetainedIndex index;
  index.reserve(5000);
  const size_t capacity = index.capacity();
  std::map<std::string, session::MessagePtr> oracle;
  for (int i = 0; i < 5000; ++i) {
    const std::string topic = "fleet/" + std::to_string(i);
    oracle[topic] = message(topic);
    index.insert_new(oracle[topic]);
  }
  EXPECT_EQ(index.capacity(), capacity);
  expect_same(index, oracle);
}

TEST(RetainedIndex, ForEachSlotReplacesInPlace) {
  RetainedIndex index;
  for (int i = 0; i < 50; ++i) index.insert(message("t/" + std::to_string(i), "old"));
  index.for_each_slot([](session::MessagePtr& slot) { slot = message(std::string(slot->topic()), "new"); });
  for (int i = 0; i < 50; ++i) EXPECT_EQ((*index.find("t/" + std::to_string(i)))->payload(), "new");
}

TEST(RetainedIndex, MovesAndSwaps) {
  RetainedIndex index;
  index.insert(message("a"));
  RetainedIndex moved(std::move(index));
  EXPECT_NE(moved.find("a"), nullptr);
  RetainedIndex assigned;
  assigned = std::move(moved);
  EXPECT_NE(assigned.find("a"), nullptr);
  assigned.clear();
  EXPECT_TRUE(assigned.empty());
}

}  // namespace
}  // namespace stellwerk::store

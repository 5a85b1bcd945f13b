// The retained tree's child table on its own, with std::string values whose
// text is their level: random adds and removes against a std::set across the
// array/hash boundary, and a flood of levels that all hash to the same home
// slot, which drives Robin Hood distances past the byte that stores them.
#include "topics/retained_table.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <functional>
#include <random>
#include <set>
#include <string>
#include <vector>

namespace stellwerk::topics::retained {
namespace {

struct NoNode;
using Table = ChildTable<NoNode, std::string, true>;

std::string_view level_of(const Table::SlotType& slot, bool holds_value) {
  EXPECT_TRUE(holds_value);
  return slot.value();
}

void add(Table& table, const std::string& level) {
  std::string value = level;
  table.add_value(level, std::move(value), level_of);
}

bool remove(Table& table, const std::string& level) {
  const size_t index = table.find(level, level_of);
  if (index == Table::kNone) return false;
  table.remove(index, level_of);
  return true;
}

void expect_same(const Table& table, const std::set<std::string>& model,
                 const std::vector<std::string>& absent) {
  ASSERT_EQ(table.size(), model.size());
  for (const std::string& level : model) {
    const size_t index = table.find(level, level_of);
    ASSERT_NE(index, Table::kNone) << level;
    ASSERT_EQ(table.slot(index).value(), level);
  }
  for (const std::string& level : absent) {
    if (model.count(level) == 0) {
      ASSERT_EQ(table.find(level, level_of), Table::kNone) << level;
    }
  }
  std::set<std::string> seen;
  for (size_t index = 0; index < table.capacity(); ++index) {
    if (table.occupied(index)) seen.insert(table.slot(index).value());
  }
  ASSERT_EQ(seen, model);
}

// Levels whose home is slot 0 in every table of up to `capacity` slots.
std::vector<std::string> colliding_levels(size_t count, uint64_t capacity) {
  std::vector<std::string> levels;
  for (uint64_t n = 0; levels.size() < count; ++n) {
    std::string level = "level-long-enough-for-the-heap-" + std::to_string(n);
    if ((std::hash<std::string_view>{}(level) >> 32) * capacity < (uint64_t{1} << 32))
      levels.push_back(level);
  }
  return levels;
}

TEST(RetainedChildTable, AgreesWithASetThroughGrowthAndShrinking) {
  std::mt19937_64 random(5);
  std::vector<std::string> universe;
  for (int i = 0; i < 300; ++i)
    universe.push_back(i % 3 == 0 ? std::to_string(i) : "topic-level-" + std::to_string(i));
  Table table;
  std::set<std::string> model;
  for (int step = 0; step < 20000; ++step) {
    // Phases that fill and drain, so the table crosses 8 entries both ways.
    const bool filling = (step / 2500) % 2 == 0;
    const size_t span = step % 5000 < 2500 ? 12 : universe.size();
    const std::string& level = universe[random() % span];
    if ((random() % 4 != 0) == filling) {
      if (model.insert(level).second) add(table, level);
    } else {
      ASSERT_EQ(remove(table, level), model.erase(level) == 1) << level;
    }
    if (step % 500 == 0) {
      ASSERT_NO_FATAL_FAILURE(expect_same(table, model, universe));
    }
  }
  ASSERT_NO_FATAL_FAILURE(expect_same(table, model, universe));
}

TEST(RetainedChildTable, FloodOfCollidingLevels) {
  const std::vector<std::string> flood = colliding_levels(400, 1024);
  std::vector<std::string> others;
  for (int i = 0; i < 200; ++i) others.push_back("other-" + std::to_string(i));
  Table table;
  std::set<std::string> model;
  for (size_t i = 0; i < flood.size(); ++i) {
    add(table, flood[i]);
    model.insert(flood[i]);
    if (i < others.size()) {
      add(table, others[i]);
      model.insert(others[i]);
    }
  }
  std::vector<std::string> everything = flood;
  everything.insert(everything.end(), others.begin(), others.end());
  ASSERT_NO_FATAL_FAILURE(expect_same(table, model, everything));
  std::shuffle(everything.begin(), everything.end(), std::mt19937_64(8));
  for (size_t i = 0; i < everything.size(); ++i) {
    ASSERT_TRUE(remove(table, everything[i])) << everything[i];
    model.erase(everything[i]);
    if (i % 37 == 0) {
      ASSERT_NO_FATAL_FAILURE(expect_same(table, model, everything));
    }
  }
  EXPECT_EQ(table.size(), 0u);
  EXPECT_EQ(table.capacity(), 0u);
}

TEST(RetainedChildTable, SetReplacesInPlace) {
  Table table;
  for (int i = 0; i < 20; ++i) add(table, "x" + std::to_string(i));
  const size_t index = table.find("x7", level_of);
  ASSERT_NE(index, Table::kNone);
  table.set_value(index, std::string("x7"));
  EXPECT_EQ(table.find("x7", level_of), index);
  EXPECT_EQ(table.size(), 20u);
}

}  // namespace
}  // namespace stellwerk::topics::retained

// Ring: first in, first out through wrap-around, growth and shrinking,
// erasing in the middle, and elements that own memory.
#include "base/ring.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <deque>
#include <memory>
#include <random>
#include <string>

namespace stellwerk {
namespace {

TEST(Ring, FirstInFirstOutAcrossTheWrap) {
  Ring<int> ring;
  EXPECT_TRUE(ring.empty());
  EXPECT_EQ(ring.begin(), ring.end());
  int next_in = 0, next_out = 0;
  for (int round = 0; round < 1000; ++round) {
    ring.push_back(next_in++);
    ring.push_back(next_in++);
    EXPECT_EQ(ring.front(), next_out++);
    ring.pop_front();
  }
  EXPECT_EQ(ring.size(), 1000u);
  EXPECT_EQ(ring.back(), next_in - 1);
  int expected = next_out;
  for (int value : ring) EXPECT_EQ(value, expected++);
}

TEST(Ring, ASteadyStreamKeepsItsArray) {
  Ring<int> ring;
  for (int i = 0; i < 5; ++i) ring.push_back(i);
  const size_t capacity = ring.capacity();
  const int* storage = &ring.front();
  for (int i = 5; i < 100'000; ++i) {
    ring.push_back(i);
    ring.pop_front();
  }
  EXPECT_EQ(ring.capacity(), capacity);
  EXPECT_GE(&ring.front(), storage);
  EXPECT_LT(&ring.front(), storage + capacity);
}

TEST(Ring, GrowsWhenFullAndShrinksWhenAQuarterFull) {
  Ring<int> ring;
  for (int i = 0; i < 4096; ++i) ring.push_back(i);
  EXPECT_EQ(ring.capacity(), 4096u);
  while (ring.size() > 10) ring.pop_front();
  EXPECT_LE(ring.capacity(), Ring<int>::kKeptCapacity);
  EXPECT_EQ(ring.front(), 4086);
  ring.clear();
  for (int i = 0; i < 1000; ++i) ring.push_back(i);
  ring.clear();  // a large array is given back at once
  EXPECT_EQ(ring.capacity(), 0u);
}

TEST(Ring, EraseKeepsTheOrderOfTheOthers) {
  Ring<std::string> ring;
  std::deque<std::string> model;
  std::mt19937 random(7);
  for (int step = 0; step < 20'000; ++step) {
    const int action = static_cast<int>(random() % 4);
    if (action <= 1 || model.empty()) {
      std::string value = std::to_string(step) + std::string(step % 40, 'x');  // some on the heap
      ring.push_back(value);
      model.push_back(value);
    } else if (action == 2) {
      ring.pop_front();
      model.pop_front();
    } else {
      const size_t at = random() % model.size();
      auto it = std::find(ring.begin(), ring.end(), model[at]);
      ASSERT_NE(it, ring.end());
      auto after = ring.erase(it);
      model.erase(model.begin() + static_cast<std::ptrdiff_t>(at));
      if (at < model.size()) EXPECT_EQ(*after, model[at]);
      else EXPECT_EQ(after, ring.end());
    }
    ASSERT_EQ(ring.size(), model.size());
  }
  EXPECT_TRUE(std::equal(ring.begin(), ring.end(), model.begin(), model.end()));
}

TEST(Ring, MovesElementsThatOwnMemory) {
  Ring<std::unique_ptr<int>> ring;
  for (int i = 0; i < 100; ++i) ring.push_back(std::make_unique<int>(i));
  for (int i = 0; i < 90; ++i) ring.pop_front();
  EXPECT_EQ(*ring.front(), 90);
  EXPECT_EQ(*ring.back(), 99);
  const Ring<std::unique_ptr<int>>& view = ring;
  int expected = 90;
  for (const auto& value : view) EXPECT_EQ(*value, expected++);
}

}  // namespace
}  // namespace stellwerk

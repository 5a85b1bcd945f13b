// LazyDeque: nothing allocated until used, memory handed back on request, and
// released deques reused by the next queue on the same thread.
#include "base/lazy_deque.h"

#include <gtest/gtest.h>

#include <string>
#include <thread>

namespace stellwerk {
namespace {

TEST(LazyDeque, BehavesLikeADequeForWhatItOffers) {
  LazyDeque<std::string> queue;
  EXPECT_TRUE(queue.empty());
  EXPECT_EQ(queue.begin(), queue.end());
  queue.push_back("a");
  queue.emplace_back("b");
  EXPECT_EQ(queue.size(), 2u);
  EXPECT_EQ(queue.front(), "a");
  EXPECT_EQ(queue.back(), "b");
  queue.pop_front();
  EXPECT_EQ(queue.front(), "b");
  queue.clear();
  EXPECT_TRUE(queue.empty());
}

TEST(LazyDeque, ReleaseKeepsANonEmptyQueue) {
  LazyDeque<int> queue;
  queue.push_back(1);
  queue.release_if_empty();
  ASSERT_EQ(queue.size(), 1u);
  EXPECT_EQ(queue.front(), 1);
}

TEST(LazyDeque, AReleasedDequeServesTheNextQueueOfTheThread) {
  LazyDeque<long> first;
  first.push_back(1);
  const long* storage = &first.front();
  first.pop_front();
  first.release_if_empty();
  EXPECT_TRUE(first.empty());

  LazyDeque<long> second;
  second.push_back(2);
  // The same queue, and so its array, came back from the pool.
  EXPECT_GE(&second.front(), storage);
  EXPECT_LT(&second.front(), storage + 512 / sizeof(long));
  EXPECT_EQ(second.front(), 2);
}

TEST(LazyDeque, QueuesOnOtherThreadsAreIndependent) {
  LazyDeque<int> here;
  here.push_back(1);
  here.pop_front();
  here.release_if_empty();
  std::thread([] {
    LazyDeque<int> there;
    for (int i = 0; i < 1000; ++i) there.push_back(i);
    EXPECT_EQ(there.size(), 1000u);
    while (!there.empty()) there.pop_front();
    there.release_if_empty();
  }).join();
  LazyDeque<int> again;
  again.push_back(3);
  EXPECT_EQ(again.front(), 3);
}

}  // namespace
}  // namespace stellwerk

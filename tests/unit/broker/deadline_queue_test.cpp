// DeadlineQueue: lazy filing, one live entry per key, stale entries told
// apart by the key's record, compaction of entries whose keys are gone.
#include "broker/deadline_queue.h"

#include <gtest/gtest.h>

#include <map>

namespace stellwerk::broker {
namespace {

using namespace std::chrono_literals;
using Queue = DeadlineQueue<int>;

const TimePoint t0{};

std::vector<int> keys_due(Queue& queue, TimePoint now) {
  std::vector<Queue::Entry> due;
  queue.take_due(now, due);
  std::vector<int> keys;
  for (const auto& entry : due) keys.push_back(entry.key);
  return keys;
}

TEST(DeadlineQueue, GivesWhatIsDueEarliestFirstAndKeepsTheRest) {
  Queue queue;
  TimePoint a = kNotFiled, b = kNotFiled, c = kNotFiled;
  queue.file(1, t0 + 3s, a);
  queue.file(2, t0 + 1s, b);
  queue.file(3, t0 + 9s, c);
  EXPECT_EQ(keys_due(queue, t0 + 3s), (std::vector<int>{2, 1}));
  EXPECT_EQ(queue.size(), 1u);
  EXPECT_TRUE(keys_due(queue, t0 + 8s).empty());
  EXPECT_EQ(keys_due(queue, t0 + 9s), (std::vector<int>{3}));
}

TEST(DeadlineQueue, ALaterDeadlineAddsNoEntryAnEarlierOneDoes) {
  Queue queue;
  TimePoint filed = kNotFiled;
  queue.file(1, t0 + 5s, filed);
  queue.file(1, t0 + 7s, filed);  // found when the 5 s entry comes up
  EXPECT_EQ(queue.size(), 1u);
  EXPECT_EQ(filed, t0 + 5s);
  queue.file(1, t0 + 2s, filed);
  EXPECT_EQ(queue.size(), 2u);
  EXPECT_EQ(filed, t0 + 2s);
  std::vector<Queue::Entry> due;
  queue.take_due(t0 + 5s, due);
  ASSERT_EQ(due.size(), 2u);
  EXPECT_EQ(due[0].due, filed);  // the live entry
  EXPECT_NE(due[1].due, filed);  // stale: the caller skips it
}

TEST(DeadlineQueue, CompactDropsEntriesOfKeysThatAreGone) {
  Queue queue;
  std::map<int, TimePoint> records;
  for (int key = 0; key < 3000; ++key) {
    records[key] = kNotFiled;
    queue.file(key, t0 + std::chrono::seconds(key), records[key]);
  }
  for (int key = 0; key < 2990; ++key) records.erase(key);  // closed long before their deadlines
  const auto live = [&](const Queue::Entry& entry) {
    auto it = records.find(entry.key);
    return it != records.end() && it->second == entry.due;
  };
  queue.compact(records.size(), live);
  EXPECT_EQ(queue.size(), 10u);
  EXPECT_EQ(keys_due(queue, t0 + 2991s), (std::vector<int>{2990, 2991}));
}

TEST(DeadlineQueue, CompactWaitsUntilEntriesPileUp) {
  Queue queue;
  TimePoint filed = kNotFiled;
  queue.file(1, t0 + 1s, filed);
  queue.compact(0, [](const Queue::Entry&) { return false; });
  EXPECT_EQ(queue.size(), 1u);  // below the slack: not worth a pass
}

}  // namespace
}  // namespace stellwerk::broker

// Packet ids awaiting acknowledgement: in order, out of order, unknown.
#include "bench/id_queue.h"

#include <gtest/gtest.h>

namespace stellwerk::bench {
namespace {

TEST(IdQueue, AcknowledgementsInOrderComeFromTheFront) {
  IdQueue queue(3);
  queue.push(7);
  queue.push(8);
  queue.push(9);
  EXPECT_TRUE(queue.full());
  EXPECT_EQ(queue.remove(7), IdQueue::Removed::front);
  queue.push(10);  // wraps around the ring
  EXPECT_EQ(queue.remove(8), IdQueue::Removed::front);
  EXPECT_EQ(queue.remove(9), IdQueue::Removed::front);
  EXPECT_EQ(queue.remove(10), IdQueue::Removed::front);
  EXPECT_TRUE(queue.empty());
}

TEST(IdQueue, LaterIdIsFoundAndTheRestKeepTheirOrder) {
  IdQueue queue(4);
  for (uint16_t id : {1, 2, 3, 4}) queue.push(id);
  EXPECT_EQ(queue.remove(3), IdQueue::Removed::later);
  EXPECT_EQ(queue.size(), 3u);
  EXPECT_EQ(queue.remove(1), IdQueue::Removed::front);
  EXPECT_EQ(queue.remove(2), IdQueue::Removed::front);
  EXPECT_EQ(queue.remove(4), IdQueue::Removed::front);
}

TEST(IdQueue, UnknownIdIsAbsent) {
  IdQueue queue(2);
  EXPECT_EQ(queue.remove(1), IdQueue::Removed::absent);
  queue.push(1);
  EXPECT_EQ(queue.remove(2), IdQueue::Removed::absent);
  EXPECT_EQ(queue.size(), 1u);
}

}  // namespace
}  // namespace stellwerk::bench

// OutputBatch: small items share one buffer, large ones keep (and hand on)
// their own string, items taken into another batch outlive their first one,
// order is kept, and the same bytes sent to many connections are stored once.
#include "server/output_batch.h"

#include <gtest/gtest.h>

namespace stellwerk::server {
namespace {

std::vector<std::string> contents(OutputBatch& batch) {
  std::vector<std::string> out;
  for (const auto& item : batch.items())
    out.push_back(item.close ? "<close>" : std::string(batch.bytes_of(item)));
  return out;
}

TEST(OutputBatch, KeepsOrderOfSmallLargeAndCloseItems) {
  OutputBatch batch;
  const std::string large(OutputBatch::kSmallItem + 1, 'L');
  batch.add(1, "a", false);
  batch.add(2, large, true);
  batch.add_close(1);
  batch.add(3, "bc", false);
  EXPECT_EQ(contents(batch), (std::vector<std::string>{"a", large, "<close>", "bc"}));
  EXPECT_FALSE(batch.items()[0].owned);  // in the shared buffer
  EXPECT_TRUE(batch.items()[1].owned);
  EXPECT_TRUE(batch.items()[1].droppable);
  EXPECT_FALSE(batch.items()[3].droppable);
}

TEST(OutputBatch, TakeMovesALargeStringWithoutCopyingIt) {
  OutputBatch from, to;
  from.add(7, std::string(4096, 'x'), false);
  const char* data = from.bytes_of(from.items()[0]).data();
  to.take(from, from.items()[0]);
  ASSERT_EQ(to.items().size(), 1u);
  EXPECT_EQ(to.bytes_of(to.items()[0]).data(), data);
  EXPECT_EQ(to.take_owned(to.items()[0]).data(), data);
  EXPECT_EQ(to.items()[0].id, 7u);
}

TEST(OutputBatch, ATakenItemOutlivesItsFirstBatch) {
  OutputBatch staged, held;
  staged.add(1, "held", true);
  staged.add_close(2);
  for (const auto& item : staged.items()) held.take(staged, item);
  staged.clear();
  staged.add(1, "overwrites the buffer", false);
  EXPECT_EQ(contents(held), (std::vector<std::string>{"held", "<close>"}));
  EXPECT_TRUE(held.items()[0].droppable);
  EXPECT_EQ(held.items()[1].id, 2u);
}

TEST(OutputBatch, TheSameBytesForManyConnectionsAreStoredOnce) {
  OutputBatch staged, routed;
  const std::string publish = "one message for every subscriber";
  for (net::ConnectionId id = 1; id <= 3; ++id) staged.add(id, publish, false);
  EXPECT_EQ(contents(staged), (std::vector<std::string>(3, publish)));
  EXPECT_EQ(staged.items()[2].where, staged.items()[0].where);
  // Handed on to another batch, they stay shared there too.
  for (const auto& item : staged.items()) routed.take(staged, item);
  EXPECT_EQ(contents(routed), (std::vector<std::string>(3, publish)));
  EXPECT_EQ(routed.items()[2].where, routed.items()[0].where);
}

TEST(OutputBatch, AReusedBufferWithOtherBytesIsCopiedAgain) {
  OutputBatch batch;
  std::string scratch = "first";
  batch.add(1, scratch, false);
  scratch.replace(0, scratch.size(), "other");  // same place, same size
  batch.add(2, scratch, false);
  batch.add(3, "first", false);  // same bytes from elsewhere: a copy of its own
  EXPECT_EQ(contents(batch), (std::vector<std::string>{"first", "other", "first"}));
}

TEST(OutputBatch, AnItemIsSixteenBytes) {
  // A fan-out writes one per subscriber: the size is part of its cost.
  EXPECT_EQ(sizeof(OutputBatch::Item), 16u);
}

TEST(OutputBatch, SwapAndClearLeaveAnEmptyBatch) {
  OutputBatch a, b;
  a.add(1, "x", false);
  a.swap(b);
  EXPECT_TRUE(a.empty());
  EXPECT_EQ(contents(b), (std::vector<std::string>{"x"}));
  b.clear();
  EXPECT_TRUE(b.empty());
}

}  // namespace
}  // namespace stellwerk::server

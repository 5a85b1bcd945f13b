// OutputBatch: small items share one buffer, large ones keep (and hand on)
// their own string, held items can own their bytes, order is kept, and the
// same bytes sent to many connections are stored once.
#include "server/output_batch.h"

#include <gtest/gtest.h>

namespace stellwerk::server {
namespace {

std::vector<std::string> contents(OutputBatch& batch) {
  std::vector<std::string> out;
  for (const auto& item : batch.items()) out.push_back(item.close ? "<close>" : std::string(batch.bytes_of(item)));
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
  EXPECT_TRUE(batch.items()[0].own.empty());  // in the shared buffer
  EXPECT_EQ(batch.items()[1].own, large);
  EXPECT_TRUE(batch.items()[1].droppable);
}

TEST(OutputBatch, TakeMovesALargeStringWithoutCopyingIt) {
  OutputBatch from, to;
  from.add(7, std::string(4096, 'x'), false);
  const char* data = from.items()[0].own.data();
  to.take(from.items()[0], from.bytes_of(from.items()[0]));
  ASSERT_EQ(to.items().size(), 1u);
  EXPECT_EQ(to.items()[0].own.data(), data);
  EXPECT_EQ(to.items()[0].id, 7u);
}

TEST(OutputBatch, AHeldItemOwnsItsBytesAndOutlivesItsBatch) {
  OutputBatch staged, routed;
  staged.add(1, "held", false);
  OutputBatch::Item held = staged.items()[0];
  staged.make_own(held);
  staged.clear();
  staged.add(1, "overwrites the buffer", false);
  routed.take(held, held.own);
  EXPECT_EQ(contents(routed), (std::vector<std::string>{"held"}));
  EXPECT_TRUE(routed.items()[0].own.empty());  // small again: copied into the buffer
}

TEST(OutputBatch, TheSameBytesForManyConnectionsAreStoredOnce) {
  OutputBatch staged, routed;
  const std::string publish = "one message for every subscriber";
  for (net::ConnectionId id = 1; id <= 3; ++id) staged.add(id, publish, false);
  EXPECT_EQ(contents(staged), (std::vector<std::string>(3, publish)));
  EXPECT_EQ(staged.items()[2].offset, staged.items()[0].offset);
  // Handed on to another batch, they stay shared there too.
  for (auto& item : staged.items()) routed.take(item, staged.bytes_of(item));
  EXPECT_EQ(contents(routed), (std::vector<std::string>(3, publish)));
  EXPECT_EQ(routed.items()[2].offset, routed.items()[0].offset);
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

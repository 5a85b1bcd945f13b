// OutputQueue: chunking, gathering into iovecs, partial consumption.
#include "net/output_queue.h"

#include <gtest/gtest.h>

#include <string>

namespace stellwerk::net {
namespace {

std::string gathered(const OutputQueue& q) {
  iovec iov[64];
  int n = q.gather(iov, 64);
  std::string out;
  for (int i = 0; i < n; ++i) out.append(static_cast<const char*>(iov[i].iov_base), iov[i].iov_len);
  return out;
}

TEST(OutputQueue, SmallAppendsShareOneChunk) {
  OutputQueue q;
  for (int i = 0; i < 100; ++i) q.append(std::string_view("abc"));
  iovec iov[4];
  EXPECT_EQ(q.gather(iov, 4), 1);
  EXPECT_EQ(q.size(), 300u);
}

TEST(OutputQueue, LargeMovedBufferIsKeptWithoutCopy) {
  OutputQueue q;
  q.append(std::string_view("head"));
  std::string big(100'000, 'x');
  const char* original = big.data();
  q.append(std::move(big));
  iovec iov[4];
  ASSERT_EQ(q.gather(iov, 4), 2);
  EXPECT_EQ(iov[1].iov_base, original);
  EXPECT_EQ(q.size(), 100'004u);
}

TEST(OutputQueue, ShortMovedStringIsCoalesced) {
  OutputQueue q;
  q.append(std::string("one"));
  q.append(std::string("two"));
  iovec iov[4];
  EXPECT_EQ(q.gather(iov, 4), 1);
  EXPECT_EQ(gathered(q), "onetwo");
}

TEST(OutputQueue, TailStopsGrowingAtTheCoalesceLimit) {
  OutputQueue q;
  std::string piece(OutputQueue::kCoalesceLimit / 2 + 1, 'a');
  q.append(std::string_view(piece));
  q.append(std::string_view(piece));
  iovec iov[4];
  EXPECT_EQ(q.gather(iov, 4), 2);
}

TEST(OutputQueue, ConsumeAcrossChunksKeepsTheRest) {
  OutputQueue q;
  q.append(std::string(1000, 'a'));
  q.append(std::string(1000, 'b'));
  q.append(std::string_view("tail"));
  q.consume(999);
  EXPECT_EQ(q.size(), 1005u);
  q.consume(2);  // the last 'a' and the first 'b'
  std::string rest = gathered(q);
  EXPECT_EQ(rest, std::string(999, 'b') + "tail");
  q.consume(rest.size());
  EXPECT_TRUE(q.empty());
  iovec iov[1];
  EXPECT_EQ(q.gather(iov, 1), 0);
}

TEST(OutputQueue, GatherStopsAtMax) {
  OutputQueue q;
  for (int i = 0; i < 10; ++i) q.append(std::string(1000, static_cast<char>('a' + i)));
  iovec iov[3];
  ASSERT_EQ(q.gather(iov, 3), 3);
  EXPECT_EQ(static_cast<const char*>(iov[2].iov_base)[0], 'c');
}

TEST(OutputQueue, AppendAfterPartialWriteStillOrdersBytes) {
  OutputQueue q;
  q.append(std::string_view("hello "));
  q.consume(3);
  q.append(std::string_view("world"));
  EXPECT_EQ(gathered(q), "lo world");
}

TEST(OutputQueue, ClearForgetsEverything) {
  OutputQueue q;
  q.append(std::string(5000, 'z'));
  q.consume(10);
  q.clear();
  EXPECT_TRUE(q.empty());
  q.append(std::string_view("x"));
  EXPECT_EQ(gathered(q), "x");
}

}  // namespace
}  // namespace stellwerk::net

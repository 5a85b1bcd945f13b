// Several sockets' reads or writes in one io_uring call (io_ring.h,
// worker_batch.cpp): results in queue order, never a wait in the kernel, and
// the worker's batched path handing over exactly what the plain path would.
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "net/io_ring.h"
#include "net/worker.h"
#include "net_test_support.h"

namespace stellwerk::net::testing {
namespace {

struct Pair {
  int fds[2] = {-1, -1};
  Pair() { EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, fds), 0); }
  ~Pair() {
    ::close(fds[0]);
    ::close(fds[1]);
  }
};

bool io_uring_available() { return IoRing::create(8) != nullptr; }

TEST(IoRingTest, AnEmptySocketAndAFullOneAnswerAtOnceWithEagain) {
  auto ring = IoRing::create(8);
  if (!ring) GTEST_SKIP() << "this kernel refuses io_uring; workers make one system call per socket";
  Pair pair;
  char block[4096] = {};
  while (::write(pair.fds[1], block, sizeof block) > 0) {
  }
  char byte = 0;
  iovec iov{&byte, 1};
  msghdr message{};
  message.msg_iov = &iov;
  message.msg_iovlen = 1;
  ring->queue_receive(pair.fds[1], &byte, 1);
  ring->queue_send(pair.fds[1], &message);
  std::span<const int> results = ring->submit_and_wait();
  ASSERT_EQ(results.size(), 2u);
  EXPECT_EQ(results[0], -EAGAIN);
  EXPECT_EQ(results[1], -EAGAIN);
}

TEST(IoRingTest, ResultsFollowTheOrderOfQueueing) {
  auto ring = IoRing::create(8);
  if (!ring) GTEST_SKIP() << "this kernel refuses io_uring; workers make one system call per socket";
  Pair pairs[3];
  const std::string sent[3] = {"a", "bb", "ccc"};
  for (int i = 0; i < 3; ++i) ASSERT_EQ(::write(pairs[i].fds[1], sent[i].data(), sent[i].size()), ssize_t(i + 1));
  char buffers[3][16] = {};
  for (int i = 0; i < 3; ++i) ring->queue_receive(pairs[i].fds[0], buffers[i], sizeof buffers[i]);
  EXPECT_FALSE(ring->full());
  EXPECT_EQ(ring->queued(), 3u);
  std::span<const int> results = ring->submit_and_wait();
  ASSERT_EQ(results.size(), 3u);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(results[i], i + 1);
    EXPECT_EQ(std::string(buffers[i], static_cast<size_t>(i + 1)), sent[i]);
  }
  EXPECT_EQ(ring->queued(), 0u);
}

class WorkerBatchTest : public WorkerFixture {
 protected:
  // `count` clients connected to one worker, which is blocked until
  // release_worker(), so that what they send meanwhile is ready in one turn.
  void connect_and_block(size_t count, WorkerOptions options = {}) {
    start(1, options);
    for (size_t i = 0; i < count; ++i) clients_.push_back(std::make_unique<TestClient>(port()));
    ASSERT_TRUE(wait_until([&] { return worker(0).connection_count() == count; }));
    blocker_ = std::make_unique<Blocker>(worker(0));
  }
  void release_worker() { blocker_->release(); }
  void expect_batches_iff_available() {
    if (io_uring_available()) {
      // The counter moves just after the call whose output the clients may have read already.
      EXPECT_TRUE(wait_until([&] { return worker(0).stats().batches >= 2; })) << "one batch of reads, one of writes";
    } else {
      EXPECT_EQ(worker(0).stats().batches, 0u);
    }
  }

  std::vector<std::unique_ptr<TestClient>> clients_;
  std::unique_ptr<Blocker> blocker_;
};

// Sizes from 100 bytes to 20 KiB: the small ones fit their slice of the
// batch, the large ones fill it and are read on by plain reads.
TEST_F(WorkerBatchTest, SocketsReadyTogetherAreReadAndAnsweredIntact) {
  constexpr size_t kClients = 20;
  connect_and_block(kClients);
  std::vector<std::string> sent;
  for (size_t i = 0; i < kClients; ++i) {
    sent.push_back(pattern(100 + i * 1000, static_cast<int>(i)));
    ASSERT_TRUE(clients_[i]->send_all(sent[i]));
  }
  release_worker();
  for (size_t i = 0; i < kClients; ++i) EXPECT_TRUE(clients_[i]->read_exactly(sent[i].size()) == sent[i]) << i;
  expect_batches_iff_available();
}

TEST_F(WorkerBatchTest, OutputOfMoreChunksThanABatchedWriteCarriesIsWrittenInFull) {
  constexpr size_t kClients = 8, kChunks = 40, kChunkBytes = 1024;  // each chunk its own iovec
  handler_.when_data = [](Worker& w, ConnectionId id, std::span<const uint8_t>) {
    for (size_t i = 0; i < kChunks; ++i) w.send(id, pattern(kChunkBytes, static_cast<int>(i)));
  };
  connect_and_block(kClients);
  for (auto& client : clients_) ASSERT_TRUE(client->send_all("x"));
  release_worker();
  std::string expected;
  for (size_t i = 0; i < kChunks; ++i) expected += pattern(kChunkBytes, static_cast<int>(i));
  for (auto& client : clients_) EXPECT_TRUE(client->read_exactly(expected.size()) == expected);
  expect_batches_iff_available();
}

TEST_F(WorkerBatchTest, PeersThatCloseTogetherAreAllTold) {
  constexpr size_t kClients = 10;
  connect_and_block(kClients);
  for (auto& client : clients_) client->close_now();
  release_worker();
  ASSERT_TRUE(wait_until([&] { return handler_.closed().size() == kClients; }));
  for (const auto& [id, why] : handler_.closed()) EXPECT_EQ(why, "peer closed the connection");
  EXPECT_EQ(worker(0).connection_count(), 0u);
}

// Input handed over first may end sockets whose input came in the same
// batch: theirs is then dropped, as if never read.
TEST_F(WorkerBatchTest, ASocketAbortedByAnEarlierOneOfTheBatchGetsNothingDelivered) {
  constexpr size_t kClients = 10;
  std::vector<ConnectionId> ids;
  handler_.when_open = [&ids](Worker&, ConnectionId id) { ids.push_back(id); };
  handler_.when_data = [&ids](Worker& w, ConnectionId id, std::span<const uint8_t> bytes) {
    for (ConnectionId other : ids) {
      if (other != id) w.abort(other);
    }
    w.send(id, std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
  };
  connect_and_block(kClients);
  for (auto& client : clients_) ASSERT_TRUE(client->send_all("hello"));
  release_worker();
  ASSERT_TRUE(wait_until([&] { return handler_.bytes_received() >= 5; }));
  EXPECT_EQ(handler_.bytes_received(), 5u) << "only the first socket's input is handed over";
  ASSERT_TRUE(wait_until([&] { return worker(0).connection_count() == 1; }));
}

TEST_F(WorkerBatchTest, WithoutBatchingTheSameTrafficMakesOneCallPerSocket) {
  constexpr size_t kClients = 10;
  WorkerOptions options;
  options.batch_system_calls = false;
  connect_and_block(kClients, options);
  for (auto& client : clients_) ASSERT_TRUE(client->send_all("hello"));
  release_worker();
  for (auto& client : clients_) EXPECT_EQ(client->read_exactly(5), "hello");
  EXPECT_EQ(worker(0).stats().batches, 0u);
  EXPECT_GE(worker(0).stats().reads, kClients);
}

}  // namespace
}  // namespace stellwerk::net::testing

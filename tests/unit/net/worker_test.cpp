// Worker over real sockets on 127.0.0.1: accepting, echoing, spreading
// connections over workers, posted tasks and timers.
#include "net/worker.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <set>
#include <thread>

#include "net_test_support.h"

namespace stellwerk::net::testing {
namespace {

using WorkerTest = WorkerFixture;

TEST_F(WorkerTest, EchoesBytesAndReportsPeerAndListenerTag) {
  start(2);
  TestClient client(port());
  ASSERT_TRUE(client.send_all("hello"));
  EXPECT_EQ(client.read_exactly(5), "hello");
  auto opened = handler_.opened();
  ASSERT_EQ(opened.size(), 1u);
  EXPECT_NE(opened[0].id, 0u);
  EXPECT_EQ(opened[0].listener_tag, kListenerTag);
  EXPECT_EQ(opened[0].peer.rfind("127.0.0.1:", 0), 0u) << opened[0].peer;
  EXPECT_EQ(total_connections(), 1u);
}

TEST_F(WorkerTest, EchoesALargeTransferIntactInBufferSizedChunks) {
  WorkerOptions options;
  options.read_buffer_bytes = 16 * 1024;
  options.read_budget_per_turn = 64 * 1024;
  start(1, options);
  TestClient client(port());
  std::string sent = pattern(4 * 1024 * 1024);
  std::thread writer([&] { EXPECT_TRUE(client.send_all(sent)); });
  std::string echoed = client.read_exactly(sent.size());
  writer.join();
  EXPECT_TRUE(echoed == sent) << "echo differs; got " << echoed.size() << " bytes";
  EXPECT_LE(handler_.largest_chunk(), options.read_buffer_bytes);
  EXPECT_EQ(worker(0).stats().bytes_read, sent.size());
  // The counter moves just after the write that the client may have read already.
  EXPECT_TRUE(wait_until([&] { return worker(0).stats().bytes_written == sent.size(); }));
}

TEST_F(WorkerTest, ManyConnectionsAreAllServedWithDistinctIds) {
  start(2);
  constexpr int kClients = 100;
  std::vector<std::unique_ptr<TestClient>> clients;
  for (int i = 0; i < kClients; ++i) clients.push_back(std::make_unique<TestClient>(port()));
  for (int i = 0; i < kClients; ++i) ASSERT_TRUE(clients[i]->send_all("client " + std::to_string(i)));
  for (int i = 0; i < kClients; ++i) {
    std::string expected = "client " + std::to_string(i);
    EXPECT_EQ(clients[i]->read_exactly(expected.size()), expected);
  }
  EXPECT_EQ(total_connections(), static_cast<size_t>(kClients));
  std::set<ConnectionId> ids;
  for (const auto& o : handler_.opened()) ids.insert(o.id);
  EXPECT_EQ(ids.size(), static_cast<size_t>(kClients));
  EXPECT_EQ(ids.count(0), 0u);
}

// EPOLLEXCLUSIVE tends to wake the same waiting worker for every new
// connection; the one that accepts hands a connection to a peer with fewer.
TEST_F(WorkerTest, ConnectionsSpreadEvenlyOverTheWorkers) {
  start(2);
  constexpr size_t kClients = 20;
  std::vector<std::unique_ptr<TestClient>> clients;
  for (size_t i = 0; i < kClients; ++i) {
    clients.push_back(std::make_unique<TestClient>(port()));
    ASSERT_TRUE(clients.back()->send_all("x"));
    ASSERT_EQ(clients.back()->read_exactly(1), "x");
    const size_t a = worker(0).connection_count(), b = worker(1).connection_count();
    EXPECT_LE(std::max(a, b) - std::min(a, b), 1u) << "after " << i + 1 << " clients: " << a << " and " << b;
  }
  EXPECT_EQ(worker(0).connection_count(), kClients / 2);
  EXPECT_EQ(worker(1).connection_count(), kClients / 2);
}

// A parked worker (server/worker_balance.h) takes no new connections: those
// it accepts go to its peer, and it gets its share again once unparked.
TEST_F(WorkerTest, AParkedWorkerTakesNoNewConnections) {
  start(2);
  worker(1).set_parked(true);
  std::vector<std::unique_ptr<TestClient>> clients;
  for (size_t i = 0; i < 6; ++i) {
    clients.push_back(std::make_unique<TestClient>(port()));
    ASSERT_TRUE(clients.back()->send_all("x"));
    ASSERT_EQ(clients.back()->read_exactly(1), "x");
  }
  EXPECT_EQ(worker(0).connection_count(), 6u);
  EXPECT_EQ(worker(1).connection_count(), 0u);
  worker(1).set_parked(false);
  for (size_t i = 0; i < 2; ++i) {
    clients.push_back(std::make_unique<TestClient>(port()));
    ASSERT_TRUE(clients.back()->send_all("x"));
    ASSERT_EQ(clients.back()->read_exactly(1), "x");
  }
  EXPECT_EQ(worker(1).connection_count(), 2u);
}

// A worker busy with a long task still gets its share: the connections
// handed to it wait in its task queue and are served once it is free.
TEST_F(WorkerTest, ConnectionsHandedToABusyWorkerAreServedOnceItIsFree) {
  start(2);
  constexpr size_t kClients = 4;
  std::vector<std::unique_ptr<TestClient>> clients;
  Blocker blocker(worker(0));
  for (size_t i = 0; i < kClients; ++i) {
    clients.push_back(std::make_unique<TestClient>(port()));
    ASSERT_TRUE(clients.back()->send_all("x"));
  }
  EXPECT_TRUE(wait_until([&] { return worker(1).connection_count() == kClients / 2; }));
  EXPECT_EQ(worker(0).connection_count(), 0u);
  blocker.release();
  for (auto& c : clients) EXPECT_EQ(c->read_exactly(1), "x");
  EXPECT_EQ(worker(0).connection_count(), kClients / 2);
  EXPECT_EQ(worker(1).connection_count(), kClients / 2);
}

TEST_F(WorkerTest, PostedTasksRunInOrderPerProducer) {
  start(1);
  constexpr int kProducers = 4;
  constexpr int kTasksEach = 2000;
  std::vector<std::pair<int, int>> seen;  // touched on the worker thread only
  std::vector<std::thread> producers;
  for (int p = 0; p < kProducers; ++p) {
    producers.emplace_back([&, p] {
      for (int i = 0; i < kTasksEach; ++i) worker(0).post([&seen, p, i] { seen.emplace_back(p, i); });
    });
  }
  for (auto& t : producers) t.join();
  auto result = run_on(worker(0), [&] { return seen; });
  ASSERT_EQ(result.size(), static_cast<size_t>(kProducers * kTasksEach));
  std::vector<int> next(kProducers, 0);
  for (auto [producer, index] : result) {
    ASSERT_EQ(index, next[producer]) << "producer " << producer;
    ++next[producer];
  }
}

TEST_F(WorkerTest, PostWakeUpsAreCoalescedWhileTheQueueIsFull) {
  start(1);
  Blocker blocker(worker(0));
  uint64_t wakeups_before = worker(0).stats().wakeups;
  std::atomic<int> ran{0};
  for (int i = 0; i < 1000; ++i) worker(0).post([&] { ++ran; });
  EXPECT_EQ(worker(0).stats().wakeups - wakeups_before, 1u);
  blocker.release();
  EXPECT_TRUE(wait_until([&] { return ran.load() == 1000; }));
}

TEST_F(WorkerTest, PostFromTheWorkerItselfNeedsNoWakeUp) {
  start(1);
  std::atomic<bool> inner_ran{false};
  uint64_t wakeups = run_on(worker(0), [&] {
    uint64_t before = worker(0).stats().wakeups;
    worker(0).post([&] { inner_ran = true; });
    return worker(0).stats().wakeups - before;
  });
  EXPECT_EQ(wakeups, 0u);
  EXPECT_TRUE(wait_until([&] { return inner_ran.load(); }));
}

TEST_F(WorkerTest, TimersFireInDeadlineOrderAndNotEarly) {
  start(1);
  std::mutex mutex;
  std::string order;
  bool early = false;
  run_on(worker(0), [&] {
    Worker& w = worker(0);
    TimePoint base = w.now();
    auto arm = [&](int ms, char name) {
      TimePoint due = base + milliseconds(ms);
      return w.schedule(due, [&, due, name] {
        std::lock_guard lock(mutex);
        order += name;
        early = early || w.now() < due;
      });
    };
    arm(30, 'c');
    arm(10, 'a');
    arm(20, 'b');
    arm(20, 'B');
    w.cancel(arm(15, 'x'));
    return 0;
  });
  EXPECT_TRUE(wait_until([&] {
    std::lock_guard lock(mutex);
    return order.size() == 4;
  }));
  std::this_thread::sleep_for(milliseconds(20));  // time for a wrongly kept 'x'
  std::lock_guard lock(mutex);
  EXPECT_EQ(order, "abBc");
  EXPECT_FALSE(early);
  EXPECT_TRUE(wait_until([&] { return worker(0).stats().timers_fired >= 4; }));
}

TEST_F(WorkerTest, ATimerCanCancelAnotherDueInTheSameTurn) {
  start(1);
  std::atomic<int> fired{0};
  std::atomic<bool> cancelled_ran{false};
  run_on(worker(0), [&] {
    Worker& w = worker(0);
    TimePoint due = w.now() + milliseconds(5);
    auto victim = std::make_shared<Worker::TimerId>(0);
    w.schedule(due, [&, victim] {
      w.cancel(*victim);
      ++fired;
    });
    *victim = w.schedule(due, [&] { cancelled_ran = true; });
    w.schedule(due + milliseconds(10), [&] { ++fired; });
    return 0;
  });
  EXPECT_TRUE(wait_until([&] { return fired.load() == 2; }));
  EXPECT_FALSE(cancelled_ran.load());
}

TEST_F(WorkerTest, TurnEndFollowsEachBatch) {
  start(1);
  uint64_t before = handler_.turn_ends();
  run_on(worker(0), [] { return 0; });  // returns before that turn has ended
  EXPECT_TRUE(wait_until([&] { return handler_.turn_ends() > before; }));
}

TEST_F(WorkerTest, OutputQueuedInOneTurnLeavesInOneWrite) {
  std::atomic<ConnectionId> id{0};
  handler_.when_open = [&](Worker&, ConnectionId c) { id = c; };
  start(1);
  TestClient client(port());
  ASSERT_TRUE(wait_until([&] { return id.load() != 0; }));
  uint64_t writes = run_on(worker(0), [&] {
    uint64_t before = worker(0).stats().writes;
    for (int i = 0; i < 100; ++i) worker(0).send(id, std::string_view("0123456789"));
    return before;
  });
  EXPECT_EQ(client.read_exactly(1000).size(), 1000u);
  EXPECT_TRUE(wait_until([&] { return worker(0).stats().writes - writes == 1; }));
  std::this_thread::sleep_for(milliseconds(10));
  EXPECT_EQ(worker(0).stats().writes - writes, 1u);
}

TEST_F(WorkerTest, AdoptedSocketIsServedLikeAnAcceptedOne) {
  start(1);
  int ends[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, ends), 0);
  ConnectionId id =
      run_on(worker(0), [&] { return worker(0).adopt_socket(ends[0], 42, PeerAddress{"pair"}); });
  EXPECT_NE(id, 0u);
  ASSERT_EQ(::write(ends[1], "ping", 4), 4);
  char reply[4];
  ASSERT_EQ(::read(ends[1], reply, 4), 4);  // blocking end
  EXPECT_EQ(std::string(reply, 4), "ping");
  auto opened = handler_.opened();
  ASSERT_EQ(opened.size(), 1u);
  EXPECT_EQ(opened[0].listener_tag, 42);
  EXPECT_EQ(opened[0].peer, "pair");
  ::close(ends[1]);
  EXPECT_TRUE(wait_until([&] { return handler_.closed().size() == 1; }));
}

TEST_F(WorkerTest, RemovedListenerAcceptsNoMore) {
  start(1);
  run_on(worker(0), [&] {
    worker(0).remove_listener(listener_fd());
    return 0;
  });
  TestClient client(port());  // completes in the kernel's backlog only
  std::this_thread::sleep_for(milliseconds(50));
  EXPECT_EQ(worker(0).connection_count(), 0u);
  EXPECT_EQ(worker(0).stats().accepts, 0u);
}

TEST_F(WorkerTest, SendsToUnknownConnectionsAreIgnored) {
  start(1);
  size_t queued = run_on(worker(0), [&] {
    worker(0).send(12345678, std::string_view("nobody"));
    worker(0).close(12345678);
    worker(0).abort(12345678);
    worker(0).set_read_paused(12345678, true);
    return worker(0).queued_output_bytes(12345678);
  });
  EXPECT_EQ(queued, 0u);
}

}  // namespace
}  // namespace stellwerk::net::testing

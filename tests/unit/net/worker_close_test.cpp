// Worker: how connections end (close, abort, peer close and reset), output to
// slow readers, read pausing, and accepting when descriptors run out.
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "net/worker.h"
#include "net_test_support.h"

namespace stellwerk::net::testing {
namespace {

using WorkerCloseTest = WorkerFixture;

#if defined(__SANITIZE_ADDRESS__)
constexpr bool kSanitized = true;
#elif defined(__has_feature)
constexpr bool kSanitized = __has_feature(address_sanitizer) || __has_feature(undefined_behavior_sanitizer);
#else
constexpr bool kSanitized = false;
#endif

std::string_view text(std::span<const uint8_t> bytes) {
  return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}

TEST_F(WorkerCloseTest, CloseFlushesQueuedOutputThenSendsFin) {
  const std::string payload = pattern(4 * 1024 * 1024, 3);
  handler_.when_open = [&](Worker& w, ConnectionId id) {
    w.send(id, std::string(payload));
    w.send(id, std::string_view("end"));
    w.close(id);
  };
  start(1);
  TestClient client(port());
  std::this_thread::sleep_for(milliseconds(50));  // let the socket buffer fill
  bool reset = true;
  std::string received = client.read_to_end(&reset);
  EXPECT_FALSE(reset);
  EXPECT_TRUE(received == payload + "end") << "got " << received.size() << " bytes";
  EXPECT_TRUE(handler_.closed().empty()) << "close() must not call on_close";
  EXPECT_EQ(worker(0).connection_count(), 0u);
}

TEST_F(WorkerCloseTest, CloseWithNothingQueuedStillEndsTheConnection) {
  handler_.when_data = [](Worker& w, ConnectionId id, std::span<const uint8_t>) { w.close(id); };
  start(1);
  TestClient client(port());
  ASSERT_TRUE(client.send_all("bye"));
  bool reset = true;
  EXPECT_EQ(client.read_to_end(&reset), "");
  EXPECT_FALSE(reset);
}

TEST_F(WorkerCloseTest, CloseIgnoresLaterSendsAndInput) {
  handler_.when_data = [](Worker& w, ConnectionId id, std::span<const uint8_t> bytes) {
    w.send(id, std::string(text(bytes)));
    w.close(id);
    w.send(id, std::string_view("too late"));
  };
  start(1);
  TestClient client(port());
  ASSERT_TRUE(client.send_all("first"));
  EXPECT_EQ(client.read_exactly(5), "first");
  client.send_all("ignored");  // read and dropped while lingering
  EXPECT_EQ(client.read_to_end(), "");
  EXPECT_EQ(handler_.bytes_received(), 5u);
}

TEST_F(WorkerCloseTest, CloseGivesUpOnAReaderThatNeverReads) {
  WorkerOptions options;
  options.close_timeout = milliseconds(100);
  std::atomic<ConnectionId> id{0};
  std::atomic<size_t> queued_at_close{0};
  handler_.when_open = [&](Worker& w, ConnectionId c) {
    w.send(c, std::string(16 * 1024 * 1024, 'x'));
    w.close(c);
    // Read here, on the worker: from the test thread a loaded machine may
    // only look after the deadline has already dropped the connection.
    queued_at_close = w.queued_output_bytes(c);
    id = c;
  };
  start(1, options);
  TestClient client(port());
  ASSERT_TRUE(wait_until([&] { return id.load() != 0; }));
  auto queued = [&] { return run_on(worker(0), [&] { return worker(0).queued_output_bytes(id); }); };
  EXPECT_GT(queued_at_close.load(), 0u);
  // Once the deadline passed the connection is gone: nothing is queued for it.
  EXPECT_TRUE(wait_until([&] { return queued() == 0; }));
  EXPECT_TRUE(handler_.closed().empty());
}

TEST_F(WorkerCloseTest, AbortDropsQueuedOutputAndSkipsOnClose) {
  handler_.when_data = [](Worker& w, ConnectionId id, std::span<const uint8_t>) {
    w.send(id, std::string_view("must never arrive"));
    w.abort(id);
    w.send(id, std::string_view("nor this"));
  };
  start(1);
  TestClient client(port());
  ASSERT_TRUE(client.send_all("go"));
  EXPECT_EQ(client.read_to_end(), "");
  EXPECT_TRUE(wait_until([&] { return worker(0).connection_count() == 0; }));
  EXPECT_TRUE(handler_.closed().empty());
}

TEST_F(WorkerCloseTest, PeerCloseCallsOnClose) {
  start(2);
  TestClient client(port());
  ASSERT_TRUE(client.send_all("hi"));
  EXPECT_EQ(client.read_exactly(2), "hi");
  client.close_now();
  ASSERT_TRUE(wait_until([&] { return handler_.closed().size() == 1; }));
  auto closed = handler_.closed();
  EXPECT_EQ(closed[0].first, handler_.opened().at(0).id);
  EXPECT_NE(closed[0].second.find("peer closed"), std::string::npos) << closed[0].second;
  EXPECT_EQ(total_connections(), 0u);
}

TEST_F(WorkerCloseTest, PeerResetCallsOnCloseWithTheError) {
  start(1);
  TestClient client(port());
  ASSERT_TRUE(client.send_all("hi"));
  EXPECT_EQ(client.read_exactly(2), "hi");
  client.reset_now();
  ASSERT_TRUE(wait_until([&] { return handler_.closed().size() == 1; }));
  EXPECT_FALSE(handler_.closed()[0].second.empty());
  EXPECT_EQ(worker(0).connection_count(), 0u);
}

TEST_F(WorkerCloseTest, DataJustBeforeThePeerClosesIsDelivered) {
  start(1);
  TestClient client(port());
  ASSERT_TRUE(client.send_all("last words"));
  ::shutdown(client.fd(), SHUT_WR);
  ASSERT_TRUE(wait_until([&] { return handler_.closed().size() == 1; }));
  EXPECT_EQ(handler_.bytes_received(), 10u);
}

TEST_F(WorkerCloseTest, SlowReaderGetsEverythingThroughEpollout) {
  const std::string payload = pattern(8 * 1024 * 1024, 7);
  handler_.when_open = [&](Worker& w, ConnectionId id) {
    for (size_t at = 0; at < payload.size(); at += 64 * 1024) w.send(id, payload.substr(at, 64 * 1024));
  };
  start(1);
  TestClient client(port());
  std::this_thread::sleep_for(milliseconds(50));
  std::string received;
  while (received.size() < payload.size()) {
    std::string piece = client.read_exactly(std::min<size_t>(256 * 1024, payload.size() - received.size()));
    if (piece.empty()) break;
    received += piece;
    std::this_thread::sleep_for(milliseconds(1));
  }
  EXPECT_TRUE(received == payload) << "got " << received.size() << " bytes";
  EXPECT_GT(worker(0).stats().write_blocks, 0u);
  EXPECT_TRUE(wait_until([&] { return worker(0).stats().bytes_written == payload.size(); }));
  EXPECT_EQ(worker(0).connection_count(), 1u);
}

TEST_F(WorkerCloseTest, PausedReadsWaitUntilResumed) {
  std::atomic<ConnectionId> id{0};
  handler_.when_open = [&](Worker& w, ConnectionId c) {
    w.set_read_paused(c, true);
    id = c;
  };
  start(1);
  TestClient client(port());
  ASSERT_TRUE(client.send_all("hello"));
  ASSERT_TRUE(wait_until([&] { return id.load() != 0; }));
  std::this_thread::sleep_for(milliseconds(100));
  EXPECT_EQ(handler_.bytes_received(), 0u);
  run_on(worker(0), [&] {
    worker(0).set_read_paused(id, false);
    return 0;
  });
  EXPECT_EQ(client.read_exactly(5), "hello");
}

TEST_F(WorkerCloseTest, PausedReadsPushBackOnTheSender) {
  std::atomic<ConnectionId> id{0};
  handler_.when_open = [&](Worker& w, ConnectionId c) {
    w.set_read_paused(c, true);
    id = c;
  };
  handler_.when_data = [](Worker&, ConnectionId, std::span<const uint8_t>) {};
  start(1);
  TestClient client(port());
  ASSERT_TRUE(wait_until([&] { return id.load() != 0; }));
  // Send without blocking until the kernel buffers on both sides are full.
  std::string chunk(64 * 1024, 'p');
  size_t sent = 0;
  for (;;) {
    ssize_t n = ::send(client.fd(), chunk.data(), chunk.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
    if (n <= 0) break;
    sent += static_cast<size_t>(n);
    ASSERT_LT(sent, size_t{1} << 30) << "the sender never felt back-pressure";
  }
  EXPECT_EQ(handler_.bytes_received(), 0u);
  run_on(worker(0), [&] {
    worker(0).set_read_paused(id, false);
    return 0;
  });
  EXPECT_TRUE(wait_until([&] { return handler_.bytes_received() == sent; }));
}

// Restores RLIMIT_NOFILE and closes the descriptors that used up the limit,
// also when an assertion ends the test early.
class DescriptorShortage {
 public:
  DescriptorShortage() {
    ::getrlimit(RLIMIT_NOFILE, &saved_);
    int lowest_free = ::dup(0);
    fillers_.push_back(lowest_free);
    rlimit tight = saved_;
    tight.rlim_cur = static_cast<rlim_t>(lowest_free) + 1;  // every number below is taken
    ::setrlimit(RLIMIT_NOFILE, &tight);
  }
  ~DescriptorShortage() { end(); }
  void end() {
    for (int fd : fillers_) ::close(fd);
    fillers_.clear();
    ::setrlimit(RLIMIT_NOFILE, &saved_);
  }

 private:
  rlimit saved_{};
  std::vector<int> fillers_;
};

TEST_F(WorkerCloseTest, AcceptPausesWhenDescriptorsRunOutAndResumesAfter) {
  if (kSanitized) {
    // UBSan's vptr check probes memory through a pipe(); with no descriptor
    // left it takes every first-seen object for invalid and aborts.
    GTEST_SKIP() << "descriptor exhaustion breaks the sanitizer runtime itself";
  }
  start(1);
  std::vector<std::unique_ptr<TestClient>> clients;
  for (int i = 0; i < 3; ++i) clients.push_back(std::make_unique<TestClient>());  // sockets made first
  DescriptorShortage shortage;
  for (auto& c : clients) ASSERT_TRUE(c->connect_to(port()));  // the kernel completes the handshake
  std::this_thread::sleep_for(milliseconds(350));
  WorkerStats during = worker(0).stats();
  EXPECT_EQ(worker(0).connection_count(), 0u);
  EXPECT_GE(during.accept_pauses, 1u);
  EXPECT_LE(during.accepts, 10u) << "accept must not spin while descriptors are short";
  shortage.end();
  EXPECT_TRUE(wait_until([&] { return worker(0).connection_count() == 3; }));
  for (auto& c : clients) {
    ASSERT_TRUE(c->send_all("ok"));
    EXPECT_EQ(c->read_exactly(2), "ok");
  }
}

}  // namespace
}  // namespace stellwerk::net::testing

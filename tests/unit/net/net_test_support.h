// Helpers for the worker tests: blocking test clients on 127.0.0.1, a handler
// whose behaviour each test scripts, and a fixture with running workers.
//
// Everything waits with a deadline, so a broken loop fails a test instead of
// hanging the suite.
#pragma once

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <future>
#include <latch>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "net/listener.h"
#include "net/worker.h"

namespace stellwerk::net::testing {

constexpr auto kPatience = std::chrono::seconds(10);

// Polls `done` every millisecond until it holds or kPatience passes.
bool wait_until(const std::function<bool()>& done);

// Runs `fn` on `w`'s thread and waits for its result.
template <typename Fn>
auto run_on(Worker& w, Fn fn) -> decltype(fn()) {
  std::packaged_task<decltype(fn())()> task(std::move(fn));
  auto result = task.get_future();
  w.post([&task] { task(); });
  if (result.wait_for(kPatience) != std::future_status::ready) ADD_FAILURE() << "worker task timed out";
  return result.get();
}

// Keeps a worker busy inside a posted task from construction until release(),
// so that the worker is not waiting in epoll_wait meanwhile.
class Blocker {
 public:
  explicit Blocker(Worker& w);
  ~Blocker() { release(); }
  Blocker(const Blocker&) = delete;
  Blocker& operator=(const Blocker&) = delete;
  void release();

 private:
  struct Gates {
    std::latch entered{1};
    std::latch go{1};
  };
  std::shared_ptr<Gates> gates_ = std::make_shared<Gates>();
  bool released_ = false;
};

// A blocking TCP client with 5 s send/receive timeouts.
class TestClient {
 public:
  explicit TestClient(uint16_t port);
  TestClient();  // not connected yet: see connect_to
  ~TestClient();
  TestClient(const TestClient&) = delete;
  TestClient& operator=(const TestClient&) = delete;

  bool connect_to(uint16_t port);
  int fd() const { return fd_; }
  bool send_all(std::string_view bytes);
  // Reads until `count` bytes arrived, EOF, an error or the timeout.
  std::string read_exactly(size_t count);
  // Reads until EOF or an error; `reset` says whether it ended in ECONNRESET.
  std::string read_to_end(bool* reset = nullptr);
  void close_now();
  void reset_now();  // SO_LINGER 0: the peer sees RST

 private:
  bool finish_interrupted_connect();

  int fd_ = -1;
};

// The bytes 0..255 repeated, offset by `seed`, so misordered data shows.
std::string pattern(size_t size, int seed = 0);

// Records every callback; each test sets the reactions it needs. Callbacks run
// on worker threads, so everything recorded is behind a mutex.
class ScriptedHandler : public ConnectionHandler {
 public:
  struct Opened {
    ConnectionId id;
    int worker;
    int listener_tag;
    std::string peer;
  };

  std::function<void(Worker&, ConnectionId)> when_open;
  // Default: echo.
  std::function<void(Worker&, ConnectionId, std::span<const uint8_t>)> when_data;

  void on_open(Worker& w, ConnectionId id, int listener_tag, const PeerAddress& peer) override;
  void on_data(Worker& w, ConnectionId id, std::span<const uint8_t> bytes) override;
  void on_close(Worker& w, ConnectionId id, std::string_view why) override;
  void on_peer_info(Worker& w, ConnectionId id, const PeerInfo& info) override;
  void on_turn_end(Worker& w) override;

  std::vector<Opened> opened() const;
  std::vector<std::pair<ConnectionId, std::string>> closed() const;
  std::vector<std::pair<ConnectionId, PeerInfo>> peer_infos() const;
  // Everything on_data delivered, per connection, in order.
  std::string received(ConnectionId id) const;
  size_t bytes_received() const;
  size_t largest_chunk() const;
  uint64_t turn_ends() const { return turn_ends_.load(); }

 private:
  mutable std::mutex mutex_;
  std::vector<Opened> opened_;
  std::vector<std::pair<ConnectionId, std::string>> closed_;
  std::vector<std::pair<ConnectionId, PeerInfo>> peer_infos_;
  std::map<ConnectionId, std::string> received_;
  size_t bytes_received_ = 0;
  size_t largest_chunk_ = 0;
  std::atomic<uint64_t> turn_ends_{0};
};

// One listener on 127.0.0.1 (tag 7) shared by `worker_count` running workers.
class WorkerFixture : public ::testing::Test {
 protected:
  static constexpr int kListenerTag = 7;
  void start(int worker_count, WorkerOptions options = {},
             std::shared_ptr<const TransportStack> transports = nullptr);
  void TearDown() override;
  uint16_t port() const { return listeners_.front().port; }
  int listener_fd() const { return listeners_.front().fd; }
  Worker& worker(int index) { return *workers_[static_cast<size_t>(index)]; }
  // Swaps every worker's transports for the listener (as a TLS reload would).
  void set_transports(std::shared_ptr<const TransportStack> transports);
  size_t total_connections() const;

  ScriptedHandler handler_;  // declared first: outlives the workers

 private:
  std::vector<ListenSocket> listeners_;
  std::vector<std::unique_ptr<Worker>> workers_;
};

}  // namespace stellwerk::net::testing

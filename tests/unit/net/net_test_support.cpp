// Test helpers: see net_test_support.h.
#include "net_test_support.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace stellwerk::net::testing {

bool wait_until(const std::function<bool()>& done) {
  auto deadline = std::chrono::steady_clock::now() + kPatience;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return true;
}

Blocker::Blocker(Worker& w) {
  w.post([gates = gates_] {
    gates->entered.count_down();
    gates->go.wait();
  });
  gates_->entered.wait();
}

void Blocker::release() {
  if (released_) return;
  released_ = true;
  gates_->go.count_down();
}

TestClient::TestClient() : fd_(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) {
  timeval timeout{5, 0};
  ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  ::setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);
}

TestClient::TestClient(uint16_t port) : TestClient() {
  EXPECT_TRUE(connect_to(port)) << std::strerror(errno);
}

TestClient::~TestClient() { close_now(); }

bool TestClient::connect_to(uint16_t port) {
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0) return true;
  return errno == EINTR && finish_interrupted_connect();
}

// A thread that made and closed an io_uring (io_uring_available() in the
// batch tests) can have the ring's teardown pending as task work, which
// interrupts its next blocking connect with EINTR. The handshake goes on in
// the kernel regardless; wait for its outcome.
bool TestClient::finish_interrupted_connect() {
  pollfd writable{fd_, POLLOUT, 0};
  int ready = 0;
  do {
    ready = ::poll(&writable, 1, 5000);
  } while (ready < 0 && errno == EINTR);
  int error = 0;
  socklen_t length = sizeof error;
  if (ready != 1 || ::getsockopt(fd_, SOL_SOCKET, SO_ERROR, &error, &length) != 0) return false;
  errno = error;
  return error == 0;
}

bool TestClient::send_all(std::string_view bytes) {
  while (!bytes.empty()) {
    ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

std::string TestClient::read_exactly(size_t count) {
  std::string out(count, '\0');
  size_t got = 0;
  while (got < count) {
    ssize_t n = ::recv(fd_, out.data() + got, count - got, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    got += static_cast<size_t>(n);
  }
  out.resize(got);
  return out;
}

std::string TestClient::read_to_end(bool* reset) {
  std::string out;
  char buffer[65536];
  for (;;) {
    ssize_t n = ::recv(fd_, buffer, sizeof buffer, 0);
    if (n < 0 && errno == EINTR) continue;
    if (reset != nullptr) *reset = n < 0 && errno == ECONNRESET;
    if (n <= 0) return out;
    out.append(buffer, static_cast<size_t>(n));
  }
}

void TestClient::close_now() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

void TestClient::reset_now() {
  linger hard{1, 0};
  ::setsockopt(fd_, SOL_SOCKET, SO_LINGER, &hard, sizeof hard);
  close_now();
}

std::string pattern(size_t size, int seed) {
  std::string out(size, '\0');
  for (size_t i = 0; i < size; ++i) out[i] = static_cast<char>((i + static_cast<size_t>(seed)) % 251);
  return out;
}

void ScriptedHandler::on_open(Worker& w, ConnectionId id, int listener_tag, const PeerAddress& peer) {
  {
    std::lock_guard lock(mutex_);
    opened_.push_back(Opened{id, w.index(), listener_tag, peer.text});
  }
  if (when_open) when_open(w, id);
}

void ScriptedHandler::on_data(Worker& w, ConnectionId id, std::span<const uint8_t> bytes) {
  {
    std::lock_guard lock(mutex_);
    bytes_received_ += bytes.size();
    received_[id].append(reinterpret_cast<const char*>(bytes.data()), bytes.size());
    largest_chunk_ = std::max(largest_chunk_, bytes.size());
  }
  if (when_data) return when_data(w, id, bytes);
  w.send(id, std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
}

void ScriptedHandler::on_close(Worker&, ConnectionId id, std::string_view why) {
  std::lock_guard lock(mutex_);
  closed_.emplace_back(id, std::string(why));
}

void ScriptedHandler::on_peer_info(Worker&, ConnectionId id, const PeerInfo& info) {
  std::lock_guard lock(mutex_);
  peer_infos_.emplace_back(id, info);
}

std::vector<std::pair<ConnectionId, PeerInfo>> ScriptedHandler::peer_infos() const {
  std::lock_guard lock(mutex_);
  return peer_infos_;
}

std::string ScriptedHandler::received(ConnectionId id) const {
  std::lock_guard lock(mutex_);
  auto it = received_.find(id);
  return it == received_.end() ? std::string() : it->second;
}

void ScriptedHandler::on_turn_end(Worker&) { turn_ends_.fetch_add(1); }

std::vector<ScriptedHandler::Opened> ScriptedHandler::opened() const {
  std::lock_guard lock(mutex_);
  return opened_;
}

std::vector<std::pair<ConnectionId, std::string>> ScriptedHandler::closed() const {
  std::lock_guard lock(mutex_);
  return closed_;
}

size_t ScriptedHandler::bytes_received() const {
  std::lock_guard lock(mutex_);
  return bytes_received_;
}

size_t ScriptedHandler::largest_chunk() const {
  std::lock_guard lock(mutex_);
  return largest_chunk_;
}

void WorkerFixture::start(int worker_count, WorkerOptions options,
                          std::shared_ptr<const TransportStack> transports) {
  auto opened = open_tcp_listener("127.0.0.1", 0);
  ASSERT_TRUE(opened.ok()) << opened.error();
  listeners_ = std::move(opened.value());
  for (int i = 0; i < worker_count; ++i) workers_.push_back(std::make_unique<Worker>(i, handler_, options));
  Worker::make_peers(workers_);  // as the server does
  for (auto& w : workers_) {
    for (const ListenSocket& l : listeners_) w->add_listener(l.fd, kListenerTag, transports);
    w->start();
  }
}

void WorkerFixture::set_transports(std::shared_ptr<const TransportStack> transports) {
  for (auto& w : workers_) {
    run_on(*w, [&] {
      for (const ListenSocket& l : listeners_) w->set_listener_transports(l.fd, transports);
      return 0;
    });
  }
}

void WorkerFixture::TearDown() {
  workers_.clear();  // stops and joins each
  close_listeners(listeners_);
}

size_t WorkerFixture::total_connections() const {
  size_t total = 0;
  for (const auto& w : workers_) total += w->connection_count();
  return total;
}

}  // namespace stellwerk::net::testing

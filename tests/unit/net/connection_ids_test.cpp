// Dense connection ids (worker.h): a slot serves one connection after
// another, the generation part keeps each id distinct, and an id whose
// connection is gone never reaches the connection that took its slot.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <memory>
#include <set>
#include <vector>

#include "net/listener.h"
#include "net/worker.h"
#include "net_test_support.h"

namespace stellwerk::net::testing {
namespace {

using ConnectionIdsTest = WorkerFixture;

ConnectionId wait_for_opened(const ScriptedHandler& handler, size_t count) {
  EXPECT_TRUE(wait_until([&] { return handler.opened().size() >= count; }));
  auto opened = handler.opened();
  return opened.size() >= count ? opened[count - 1].id : 0;
}

TEST_F(ConnectionIdsTest, AClosedConnectionsSlotServesTheNextUnderANewId) {
  start(1);
  ConnectionId first = 0;
  {
    TestClient client(port());
    first = wait_for_opened(handler_, 1);
  }
  ASSERT_TRUE(wait_until([&] { return handler_.closed().size() == 1; }));
  TestClient next(port());
  const ConnectionId second = wait_for_opened(handler_, 2);
  EXPECT_EQ(connection_slot(second), connection_slot(first));
  EXPECT_NE(second, first);
  EXPECT_GT(connection_generation(second), connection_generation(first));
}

TEST_F(ConnectionIdsTest, OutputForAnIdThatIsGoneIsDropped) {
  start(1);
  ConnectionId stale = 0;
  {
    TestClient client(port());
    stale = wait_for_opened(handler_, 1);
  }
  ASSERT_TRUE(wait_until([&] { return handler_.closed().size() == 1; }));
  TestClient next(port());
  const ConnectionId current = wait_for_opened(handler_, 2);
  ASSERT_EQ(connection_slot(current), connection_slot(stale));
  Worker& w = worker(0);
  w.post([&w, stale, current] {
    w.send(stale, std::string_view("stale"));
    w.close(stale);
    w.send(current, std::string_view("fresh"));
  });
  EXPECT_EQ(next.read_exactly(5), "fresh");
  // The connection in the slot is still open: it echoes.
  ASSERT_TRUE(next.send_all("echo"));
  EXPECT_EQ(next.read_exactly(4), "echo");
}

TEST_F(ConnectionIdsTest, IdsStayDistinctWhileSlotsAreReused) {
  start(2);
  std::set<ConnectionId> seen;
  for (int round = 0; round < 5; ++round) {
    std::vector<std::unique_ptr<TestClient>> clients;
    for (int i = 0; i < 10; ++i) clients.push_back(std::make_unique<TestClient>(port()));
    ASSERT_TRUE(wait_until([&] { return handler_.opened().size() == size_t(10 * (round + 1)); }));
    clients.clear();
    ASSERT_TRUE(wait_until([&] { return handler_.closed().size() == size_t(10 * (round + 1)); }));
  }
  for (const auto& o : handler_.opened()) {
    EXPECT_TRUE(seen.insert(o.id).second) << "id " << o.id << " given twice";
    EXPECT_EQ(o.id & (uint64_t{1} << 63), 0u) << "clear of the epoll tag bit";
  }
}

// The worker skips setting TCP_NODELAY on each accepted socket because the
// listener's setting is inherited; this is what makes that safe.
TEST(ListenerNoDelay, AcceptedSocketsInheritTcpNoDelay) {
  auto result = open_tcp_listener("127.0.0.1", 0);
  ASSERT_TRUE(result.ok()) << result.error();
  std::vector<ListenSocket> sockets = std::move(result.value());
  TestClient client(sockets[0].port);
  const int accepted = ::accept(sockets[0].fd, nullptr, nullptr);
  ASSERT_GE(accepted, 0);
  int value = 0;
  socklen_t length = sizeof value;
  ASSERT_EQ(::getsockopt(accepted, IPPROTO_TCP, TCP_NODELAY, &value, &length), 0);
  EXPECT_NE(value, 0);
  ::close(accepted);
  close_listeners(sockets);
}

}  // namespace
}  // namespace stellwerk::net::testing

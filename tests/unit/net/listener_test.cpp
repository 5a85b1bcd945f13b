// open_tcp_listener on the loopback and wildcard addresses.
#include "net/listener.h"

#include <netinet/in.h>
#include <sys/socket.h>

#include <gtest/gtest.h>

#include "net_test_support.h"

namespace stellwerk::net {
namespace {

struct Opened {
  std::vector<ListenSocket> sockets;
  ~Opened() { close_listeners(sockets); }
};

TEST(Listener, EphemeralPortOnLoopbackAcceptsConnections) {
  auto result = open_tcp_listener("127.0.0.1", 0);
  ASSERT_TRUE(result.ok()) << result.error();
  Opened opened{std::move(result.value())};
  ASSERT_EQ(opened.sockets.size(), 1u);
  EXPECT_NE(opened.sockets[0].port, 0);
  EXPECT_EQ(opened.sockets[0].address, "127.0.0.1");
  testing::TestClient client;
  EXPECT_TRUE(client.connect_to(opened.sockets[0].port));
}

TEST(Listener, AllInterfacesMeansIpv4AndIpv6OnOnePort) {
  auto result = open_tcp_listener("", 0);
  ASSERT_TRUE(result.ok()) << result.error();
  Opened opened{std::move(result.value())};
  ASSERT_GE(opened.sockets.size(), 1u);
  ASSERT_LE(opened.sockets.size(), 2u);
  EXPECT_EQ(opened.sockets[0].address, "0.0.0.0");
  if (opened.sockets.size() == 2) {
    EXPECT_EQ(opened.sockets[1].address, "::");
    EXPECT_EQ(opened.sockets[1].port, opened.sockets[0].port);
    int v6only = 0;
    socklen_t length = sizeof v6only;
    ASSERT_EQ(::getsockopt(opened.sockets[1].fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, &length), 0);
    EXPECT_EQ(v6only, 1);
  }
}

TEST(Listener, BracketedIpv6Loopback) {
  auto result = open_tcp_listener("[::1]", 0);
  if (!result.ok()) GTEST_SKIP() << "no IPv6 loopback here: " << result.error();
  Opened opened{std::move(result.value())};
  ASSERT_EQ(opened.sockets.size(), 1u);
  EXPECT_EQ(opened.sockets[0].address, "::1");
}

TEST(Listener, ListeningSocketIsNonBlocking) {
  auto result = open_tcp_listener("127.0.0.1", 0);
  ASSERT_TRUE(result.ok()) << result.error();
  Opened opened{std::move(result.value())};
  EXPECT_LT(::accept(opened.sockets[0].fd, nullptr, nullptr), 0);
  EXPECT_TRUE(errno == EAGAIN || errno == EWOULDBLOCK);
}

TEST(Listener, PortInUseIsAnErrorNamingTheAddress) {
  auto first = open_tcp_listener("127.0.0.1", 0);
  ASSERT_TRUE(first.ok()) << first.error();
  Opened opened{std::move(first.value())};
  uint16_t port = opened.sockets[0].port;
  auto second = open_tcp_listener("127.0.0.1", port);
  ASSERT_FALSE(second.ok());
  EXPECT_NE(second.error().find("127.0.0.1:" + std::to_string(port)), std::string::npos) << second.error();
  EXPECT_NE(second.error().find("in use"), std::string::npos) << second.error();
}

TEST(Listener, AddressNotOnThisHostIsAnError) {
  auto result = open_tcp_listener("192.0.2.1", 0);  // TEST-NET-1: never local
  ASSERT_FALSE(result.ok());
  EXPECT_NE(result.error().find("192.0.2.1"), std::string::npos) << result.error();
}

TEST(Listener, LocalhostResolves) {
  auto result = open_tcp_listener("localhost", 0);
  ASSERT_TRUE(result.ok()) << result.error();
  Opened opened{std::move(result.value())};
  ASSERT_GE(opened.sockets.size(), 1u);
  for (const ListenSocket& s : opened.sockets) EXPECT_EQ(s.port, opened.sockets[0].port);
}

}  // namespace
}  // namespace stellwerk::net

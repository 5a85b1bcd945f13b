// The admin socket itself: file mode, stale and live socket files, the
// connection and request-size bounds, and removal at stop.
#include "admin/admin_server.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "admin/admin_client.h"

namespace stellwerk::admin {
namespace {

using nlohmann::json;

class EmptyPort final : public BrokerPort {
 public:
  std::vector<mqtt::Publish> retained_page(const RetainedQuery&) override { return {}; }
  size_t clear_retained(const std::vector<std::string>&) override { return 0; }
  void set_retained(std::vector<mqtt::Publish>) override {}
  bool wait_durable() override { return true; }
  void backup(std::string, BackupDone done) override { done(fail(std::string("persistence is off"))); }
};

class AdminServerTest : public ::testing::Test {
 protected:
  AdminServerTest() {
    char pattern[] = "/tmp/stellwerk-admin-XXXXXX";
    directory = ::mkdtemp(pattern);
    path = directory + "/admin.sock";
  }
  ~AdminServerTest() override { std::filesystem::remove_all(directory); }

  std::unique_ptr<AdminServer> start(size_t max_connections = 4, size_t max_request_bytes = 1 << 20) {
    auto started = AdminServer::start({.path = path, .max_connections = max_connections,
                                       .max_request_bytes = max_request_bytes}, port);
    EXPECT_TRUE(started.ok()) << (started.ok() ? "" : started.error());
    return started.ok() ? std::move(started).value() : nullptr;
  }
  json ask(AdminClient& client, const json& request) {
    EXPECT_TRUE(client.send(request).ok());
    auto line = client.read();
    return line.ok() ? line.value() : json{{"read failed", line.error()}};
  }

  EmptyPort port;
  std::string directory;
  std::string path;
};

TEST_F(AdminServerTest, AnswersRequestsOnASocketOnlyItsUserMayUse) {
  auto server = start();
  struct stat info {};
  ASSERT_EQ(::stat(path.c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0600u);
  auto client = AdminClient::connect(path);
  ASSERT_TRUE(client.ok());
  EXPECT_EQ(ask(client.value(), {{"command", "retained.count"}}), (json{{"ok", true}, {"count", 0}}));
  EXPECT_EQ(ask(client.value(), {{"command", "backup"}, {"directory", "/x"}}),
            (json{{"error", "backup failed: persistence is off"}}));
}

TEST_F(AdminServerTest, RemovesItsSocketFileAtStop) {
  start().reset();
  EXPECT_FALSE(std::filesystem::exists(path));
}

TEST_F(AdminServerTest, ReplacesAStaleSocketFile) {
  // A bound socket nobody listens on: what a crashed broker leaves behind.
  const int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  path.copy(address.sun_path, path.size());
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0);
  ::close(fd);
  auto server = start();
  EXPECT_TRUE(AdminClient::connect(path).ok());
}

TEST_F(AdminServerTest, RefusesASocketAnotherBrokerServes) {
  auto first = start();
  auto second = AdminServer::start({.path = path}, port);
  ASSERT_FALSE(second.ok());
  EXPECT_NE(second.error().find("in use"), std::string::npos);
  EXPECT_TRUE(AdminClient::connect(path).ok());  // the first one still serves
}

TEST_F(AdminServerTest, RefusesAFileThatIsNotASocket) {
  { std::ofstream(path) << "data"; }
  EXPECT_FALSE(AdminServer::start({.path = path}, port).ok());
  EXPECT_TRUE(std::filesystem::exists(path));
}

TEST_F(AdminServerTest, ConnectionsBeyondTheLimitGetAnError) {
  auto server = start(/*max_connections=*/1);
  auto first = AdminClient::connect(path);
  ASSERT_TRUE(first.ok());
  EXPECT_TRUE(ask(first.value(), {{"command", "retained.count"}}).contains("ok"));
  auto second = AdminClient::connect(path);
  ASSERT_TRUE(second.ok());
  auto refused = second.value().read();
  ASSERT_TRUE(refused.ok());
  EXPECT_EQ(refused.value().value("error", ""), "too many admin connections; try again later");
}

TEST_F(AdminServerTest, OversizedRequestIsRefusedAndClosed) {
  auto server = start(4, /*max_request_bytes=*/1024);
  auto client = AdminClient::connect(path);
  ASSERT_TRUE(client.ok());
  json big = {{"command", "retained.count"}, {"filter", std::string(4096, 'a')}};
  auto answer = ask(client.value(), big);
  EXPECT_EQ(answer.value("error", ""), "request over 1024 bytes");
  EXPECT_FALSE(client.value().read().ok());  // closed
}

TEST_F(AdminServerTest, StopEndsIdleConnections) {
  auto server = start();
  auto client = AdminClient::connect(path);
  ASSERT_TRUE(client.ok());
  server.reset();  // returns although the client never closes
  EXPECT_FALSE(client.value().read().ok());
}

}  // namespace
}  // namespace stellwerk::admin

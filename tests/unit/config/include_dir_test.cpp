// include_dir: which files load, in which order, and where their errors point;
// plus Debian's default mosquitto.conf, which relies on it.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "test_support.h"

namespace stellwerk::config {
namespace {

using testing::parse_error;
using testing::parse_ok;

std::vector<uint16_t> ports_of(const Config& config) {
  std::vector<uint16_t> ports;
  for (const auto& listener : config.listeners) ports.push_back(listener.port);
  return ports;
}

TEST(ConfigIncludeDir, LoadsConfFilesInMosquittoOrder) {
  // The example from mosquitto.conf(5): upper case before lower case of the
  // same letter, digits before letters.
  MemoryFiles files;
  files.add_file("/conf.d/b.conf", "listener 1005");
  files.add_file("/conf.d/A.conf", "listener 1002");
  files.add_file("/conf.d/01.conf", "listener 1001");
  files.add_file("/conf.d/a.conf", "listener 1003");
  files.add_file("/conf.d/B.conf", "listener 1004");
  files.add_file("/conf.d/00.conf", "listener 1000");
  files.add_file("/conf.d/README", "not a config file");
  files.add_file("/conf.d/old.conf.bak", "not a config file");
  files.add_file("/conf.d/.conf", "too short a name, skipped like mosquitto does");
  const Config config = parse_ok("include_dir /conf.d\n", files);
  EXPECT_EQ(ports_of(config), (std::vector<uint16_t>{1000, 1001, 1002, 1003, 1004, 1005}));
}

TEST(ConfigIncludeDir, SeveralDirectoriesLoadInTheOrderWritten) {
  MemoryFiles files;
  files.add_file("/one.d/B.conf", "listener 1");
  files.add_file("/one.d/C.conf", "listener 2");
  files.add_file("/two.d/A.conf", "listener 3");
  files.add_file("/two.d/D.conf", "listener 4");
  const Config config = parse_ok("include_dir /one.d\ninclude_dir /two.d/\n", files);
  EXPECT_EQ(ports_of(config), (std::vector<uint16_t>{1, 2, 3, 4}));
}

TEST(ConfigIncludeDir, LinesAfterIncludeDirApplyAfterTheIncludedFiles) {
  MemoryFiles files;
  files.add_file("/conf.d/limits.conf", "sys_interval 30\nmax_keepalive 100\n");
  const Config config = parse_ok("sys_interval 5\ninclude_dir /conf.d\nmax_keepalive 200\n", files);
  EXPECT_EQ(config.sys_interval, 30u);
  EXPECT_EQ(config.max_keepalive, 200);
}

TEST(ConfigIncludeDir, ErrorInAnIncludedFileNamesThatFile) {
  MemoryFiles files;
  files.add_file("/conf.d/a.conf", "listener 1883\n\nmax_keepalive 5\n");
  const ConfigError error = parse_error("# main\ninclude_dir /conf.d\n", files);
  EXPECT_EQ(error.to_string(), "/conf.d/a.conf:3: max_keepalive: '5' is out of range, allowed: 10..65535");
}

TEST(ConfigIncludeDir, OnlyTheMainFileMayInclude) {
  MemoryFiles files;
  files.add_file("/conf.d/a.conf", "include_dir /other.d\n");
  files.add_directory("/other.d");
  const ConfigError error = parse_error("include_dir /conf.d\n", files);
  EXPECT_EQ(error.to_string(), "/conf.d/a.conf:1: include_dir: only allowed in the main configuration file");
}

TEST(ConfigIncludeDir, DirectoryHoldingTheMainFileIsAnError) {
  MemoryFiles files;
  files.add_file("/etc/stellwerk/main.conf", "include_dir /etc/stellwerk\n");
  auto result = load_file("/etc/stellwerk/main.conf", files);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().to_string(),
            "/etc/stellwerk/main.conf:1: include_dir: the directory contains the main configuration "
            "file /etc/stellwerk/main.conf");
}

TEST(ConfigIncludeDir, DuplicateListenerAcrossFilesNamesBothPlaces) {
  MemoryFiles files;
  files.add_file("/conf.d/extra.conf", "# extra\nlistener 1883\n");
  const ConfigError error = parse_error("listener 1883\ninclude_dir /conf.d\n", files);
  EXPECT_EQ(error.to_string(),
            "/conf.d/extra.conf:2: listener: duplicate listener: port 1883 on all interfaces is "
            "already defined at test.conf:1");
}

// /etc/mosquitto/mosquitto.conf as Debian 12's mosquitto 2.0.11 package ships it.
constexpr std::string_view kDebianDefault = R"(# Place your local configuration in /etc/mosquitto/conf.d/
#
# A full description of the configuration file is at
# /usr/share/doc/mosquitto/examples/mosquitto.conf.example

pid_file /run/mosquitto/mosquitto.pid

persistence true
persistence_location /var/lib/mosquitto/

log_dest file /var/log/mosquitto/mosquitto.log

include_dir /etc/mosquitto/conf.d
)";

TEST(ConfigDebianDefault, ParsesWithTheShippedConfD) {
  MemoryFiles files;
  files.add_file("/etc/mosquitto/mosquitto.conf", std::string(kDebianDefault));
  files.add_file("/etc/mosquitto/conf.d/README", "Any files placed in this directory ...\n");
  auto result = load_file("/etc/mosquitto/mosquitto.conf", files);
  ASSERT_TRUE(result.ok()) << result.error().to_string();
  const Config& config = *result;
  EXPECT_EQ(config.pid_file, "/run/mosquitto/mosquitto.pid");
  EXPECT_TRUE(config.persistence);
  EXPECT_EQ(config.persistence_location, "/var/lib/mosquitto/");
  EXPECT_EQ(config.log_dest, std::vector<std::string>{"file /var/log/mosquitto/mosquitto.log"});
  EXPECT_FALSE(config.listeners_configured()) << "mosquitto 2 starts local-only with this file";
  EXPECT_TRUE(config.effective_allow_anonymous());
}

TEST(ConfigDebianDefault, WithATypicalListenerInConfD) {
  MemoryFiles files;
  files.add_file("/etc/mosquitto/conf.d/local.conf",
                 "listener 1883\nallow_anonymous false\npassword_file /etc/mosquitto/passwd\n");
  const Config config = parse_ok(kDebianDefault, files);
  ASSERT_EQ(config.listeners.size(), 1u);
  EXPECT_EQ(config.listeners[0].port, 1883);
  EXPECT_EQ(config.password_file, "/etc/mosquitto/passwd");
  EXPECT_FALSE(config.effective_allow_anonymous());
}

// The same rules against the real file system, in a fresh temporary directory.
class ConfigIncludeDirOnDisk : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = ::testing::TempDir() + "stellwerk-config-XXXXXX";
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    root_ = pattern;
    std::filesystem::create_directory(root_ / "conf.d");
  }
  void TearDown() override { std::filesystem::remove_all(root_); }

  void write(const std::filesystem::path& relative, std::string_view text) {
    std::ofstream(root_ / relative) << text;
  }

  std::filesystem::path root_;
};

TEST_F(ConfigIncludeDirOnDisk, LoadsFilesInOrderAndSkipsDirectories) {
  write("main.conf", "include_dir " + (root_ / "conf.d").string() + "\n");
  write("conf.d/b.conf", "listener 2\n");
  write("conf.d/A.conf", "listener 1\n");
  write("conf.d/notes.txt", "not config\n");
  std::filesystem::create_directory(root_ / "conf.d" / "sub.conf");
  auto result = load_file((root_ / "main.conf").string());
  ASSERT_TRUE(result.ok()) << result.error().to_string();
  EXPECT_EQ(ports_of(*result), (std::vector<uint16_t>{1, 2}));
}

TEST_F(ConfigIncludeDirOnDisk, ErrorNamesTheIncludedFile) {
  write("main.conf", "include_dir " + (root_ / "conf.d").string() + "\n");
  write("conf.d/bad.conf", "\nallow_anonymous maybe\n");
  auto result = load_file((root_ / "main.conf").string());
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().file, (root_ / "conf.d" / "bad.conf").string());
  EXPECT_EQ(result.error().line, 2);
  EXPECT_EQ(result.error().key, "allow_anonymous");
}

TEST_F(ConfigIncludeDirOnDisk, MainFileThatIsADirectory) {
  auto result = load_file((root_ / "conf.d").string());
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().message, "cannot read: is a directory");
}

}  // namespace
}  // namespace stellwerk::config

// Every way a file can be wrong, and that each error names file, line and key.
#include <gtest/gtest.h>

#include "test_support.h"

namespace stellwerk::config {
namespace {

using testing::parse_error;

struct BadLine {
  const char* text;     // the offending line comes last
  const char* key;
  const char* message;  // expected within ConfigError::message
};

class ConfigBadValue : public ::testing::TestWithParam<BadLine> {};

TEST_P(ConfigBadValue, NamesFileLineAndKey) {
  const BadLine& bad = GetParam();
  const std::string text = std::string("# first line\nsys_interval 10\n") + bad.text;
  const ConfigError error = parse_error(text);
  EXPECT_EQ(error.file, "test.conf");
  EXPECT_EQ(error.line, 3);
  EXPECT_EQ(error.key, bad.key);
  EXPECT_NE(error.message.find(bad.message), std::string::npos) << error.message;
  EXPECT_EQ(error.to_string().rfind(std::string("test.conf:3: ") + bad.key + ": ", 0), 0u)
      << error.to_string();
}

INSTANTIATE_TEST_SUITE_P(
    Values, ConfigBadValue,
    ::testing::Values(
        BadLine{"allow_anonymus true", "allow_anonymus", "unknown key (did you mean `allow_anonymous`?)"},
        BadLine{"frobnicate 3", "frobnicate", "unknown key"},
        BadLine{"connection bridge-01", "connection", "unsupported key: a mosquitto bridge option"},
        BadLine{"auth_plugin /usr/lib/x.so", "auth_plugin", "unsupported key: a mosquitto plugin"},
        BadLine{"plugin_opt_foo bar", "plugin_opt_foo", "unsupported key: a mosquitto plugin"},
        BadLine{"bridge_cafile /ca.pem", "bridge_cafile", "unsupported key: a mosquitto bridge"},
        BadLine{"per_listener_settings true", "per_listener_settings", "unsupported key"},
        BadLine{"persistence", "persistence", "missing value"},
        BadLine{"pid_file   ", "pid_file", "missing value"},
        BadLine{"listener", "listener", "missing value"},
        BadLine{"persistence yes", "persistence", "expected `true` or `false`, got 'yes'"},
        BadLine{"persistence 1", "persistence", "expected `true` or `false`"},
        BadLine{"persistence True", "persistence", "expected `true` or `false`"},
        BadLine{"persistence true false", "persistence", "extra text 'false'"},
        BadLine{"sys_interval ten", "sys_interval", "expected an integer, got 'ten'"},
        BadLine{"sys_interval 10s", "sys_interval", "expected an integer, got '10s'"},
        BadLine{"sys_interval +5", "sys_interval", "expected an integer"},
        BadLine{"sys_interval 65536", "sys_interval", "out of range, allowed: 0..65535"},
        BadLine{"max_keepalive 9", "max_keepalive", "out of range, allowed: 10..65535"},
        BadLine{"max_queued_messages -1", "max_queued_messages", "out of range, allowed: >= 0"},
        BadLine{"max_queued_bytes 9223372036854775808", "max_queued_bytes", "out of range"},
        BadLine{"max_inflight_messages 65536", "max_inflight_messages", "0..65535"},
        BadLine{"max_connections -2", "max_connections", "out of range"},
        BadLine{"max_packet_size 19", "max_packet_size", "too small"},
        BadLine{"max_packet_size 268435456", "max_packet_size", "out of range"},
        BadLine{"threads 1025", "threads", "0..1024"},
        BadLine{"persistence_sync_interval_ms 0", "persistence_sync_interval_ms", "1..60000"},
        BadLine{"port 0", "port", "1..65535"},
        BadLine{"port 65536", "port", "1..65535"},
        BadLine{"listener 0", "listener", "invalid port: '0' is out of range"},
        BadLine{"listener http", "listener", "invalid port: expected an integer"},
        BadLine{"listener 1883 127.0.0.1 extra", "listener", "extra text 'extra'"},
        BadLine{"listener # no port", "listener", "missing PORT"},
        BadLine{"persistence_sync sometimes", "persistence_sync",
                "expected `always`, `interval` or `never`, got 'sometimes'"},
        BadLine{"log_type verbose", "log_type", "got 'verbose'"},
        BadLine{"log_type websockets", "log_type", "got 'websockets'"},
        BadLine{"log_dest dlt", "log_dest", "or `file PATH`, got 'dlt'"},
        BadLine{"log_dest file", "log_dest", "needs a PATH"},
        BadLine{"log_dest stderr stdout", "log_dest", "extra text"},
        BadLine{"persistent_client_expiration 14", "persistent_client_expiration", "expected a duration"},
        BadLine{"persistent_client_expiration 0d", "persistent_client_expiration", "expected a duration"},
        BadLine{"persistent_client_expiration d", "persistent_client_expiration", "expected a duration"},
        BadLine{"persistent_client_expiration -1d", "persistent_client_expiration", "expected a duration"},
        BadLine{"persistent_client_expiration 99999999999999y", "persistent_client_expiration",
                "expected a duration"},
        BadLine{"include_dir /missing.d", "include_dir", "cannot read directory /missing.d"}));

TEST(ConfigErrors, SecondStringValueIsReportedWhereItRepeats) {
  const ConfigError error = parse_error("pid_file /a\n\npid_file /b\n");
  EXPECT_EQ(error.to_string(), "test.conf:3: pid_file: given more than once");
}

TEST(ConfigErrors, SecondLogFileIsAnError) {
  const ConfigError error = parse_error("log_dest file /a\nlog_dest stderr\nlog_dest file /b\n");
  EXPECT_EQ(error.to_string(), "test.conf:3: log_dest: only one `log_dest file` is allowed");
}

TEST(ConfigErrors, SameStringKeyInTwoListenersIsFine) {
  const Config config = testing::parse_ok("listener 1\ncertfile /a\nlistener 2\ncertfile /b\n");
  EXPECT_EQ(config.listeners[1].certfile, "/b");
}

TEST(ConfigErrors, SameStringKeyTwiceInOneListenerIsAnError) {
  const ConfigError error = parse_error("listener 1\ncertfile /a\ncertfile /b\n");
  EXPECT_EQ(error.to_string(), "test.conf:3: certfile: given more than once for the same listener");
}

TEST(ConfigErrors, ToStringLeavesOutWhatIsUnknown) {
  EXPECT_EQ((ConfigError{"a.conf", 3, "port", "bad"}).to_string(), "a.conf:3: port: bad");
  EXPECT_EQ((ConfigError{"a.conf", 0, "", "cannot read: gone"}).to_string(), "a.conf: cannot read: gone");
}

TEST(ConfigErrors, MissingMainFile) {
  MemoryFiles files;
  auto result = load_file("/etc/stellwerk/missing.conf", files);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().to_string(), "/etc/stellwerk/missing.conf: cannot read: No such file or directory");
}

}  // namespace
}  // namespace stellwerk::config

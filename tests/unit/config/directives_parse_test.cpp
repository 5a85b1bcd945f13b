// Every directive in the table, parsed from one file and checked field by
// field; plus the accumulation rules of log_dest and log_type.
#include <gtest/gtest.h>

#include "config/directives.h"
#include "test_support.h"

namespace stellwerk::config {
namespace {

using testing::parse_ok;

constexpr std::string_view kEveryDirective = R"(# every directive Stellwerk knows
acl_file /etc/stellwerk/acl
admin_socket /run/stellwerk/admin.sock
allow_anonymous true
autosave_interval 60
autosave_on_changes true
bind_address 10.0.0.1
connection_messages false
include_dir /empty.d
log_dest stdout
log_dest file /var/log/stellwerk.log
log_timestamp false
log_type error
log_type subscribe
max_connections 500
max_inflight_bytes 4096
max_inflight_messages 100
max_keepalive 600
max_packet_size 65536
max_queued_bytes 1000000
max_queued_messages 0
password_file /etc/stellwerk/passwd
persistence true
persistence_file state.db
persistence_location /var/lib/stellwerk/
persistence_sync interval
persistence_sync_interval_ms 250
persistent_client_expiration 14d
pid_file /run/stellwerk.pid
port 1884
psk_file /etc/stellwerk/psk
queue_qos0_messages true
retain_available false
set_tcp_nodelay true
sys_interval 0
threads 4
upgrade_outgoing_qos true
user stellwerk
wakeup_coalescing_us 250
worker_balance false
batch_system_calls false

listener 8883 127.0.0.1
cafile /tls/ca.pem
capath /tls/ca.d
certfile /tls/server.pem
ciphers ECDHE-RSA-AES128-GCM-SHA256
ciphers_tls1.3 TLS_AES_128_GCM_SHA256
crlfile /tls/crl.pem
enable_proxy_protocol 2
keyfile /tls/server.key
max_connections 20
protocol websockets
psk_hint stellwerk
require_certificate true
socket_domain ipv6
tls_version tlsv1.3
use_identity_as_username true
use_subject_as_username true
)";

Config parse_every_directive() {
  MemoryFiles files;
  files.add_directory("/empty.d");
  return parse_ok(kEveryDirective, files);
}

TEST(ConfigDirectives, SampleUsesEveryDirectiveInTheTable) {
  for (const auto& directive : directives()) {
    const std::string line_start = "\n" + std::string(directive.name) + " ";
    EXPECT_NE(kEveryDirective.find(line_start), std::string_view::npos) << directive.name;
  }
}

TEST(ConfigDirectives, GlobalValues) {
  const Config config = parse_every_directive();
  EXPECT_EQ(config.acl_file, "/etc/stellwerk/acl");
  EXPECT_EQ(config.admin_socket, "/run/stellwerk/admin.sock");
  EXPECT_EQ(config.allow_anonymous, true);
  EXPECT_EQ(config.autosave_interval, 60);
  EXPECT_TRUE(config.autosave_on_changes);
  EXPECT_FALSE(config.connection_messages);
  EXPECT_EQ(config.log_dest, (std::vector<std::string>{"stdout", "file /var/log/stellwerk.log"}));
  EXPECT_FALSE(config.log_timestamp);
  EXPECT_EQ(config.log_types, (std::vector<LogType>{LogType::error, LogType::subscribe}));
  EXPECT_EQ(config.max_connections, 500);
  EXPECT_EQ(config.max_inflight_bytes, 4096);
  EXPECT_EQ(config.max_inflight_messages, 100);
  EXPECT_EQ(config.max_keepalive, 600);
  EXPECT_EQ(config.max_packet_size, 65536u);
  EXPECT_EQ(config.max_queued_bytes, 1000000);
  EXPECT_EQ(config.max_queued_messages, 0);
  EXPECT_EQ(config.password_file, "/etc/stellwerk/passwd");
  EXPECT_EQ(config.psk_file, "/etc/stellwerk/psk");
  EXPECT_EQ(config.pid_file, "/run/stellwerk.pid");
  EXPECT_TRUE(config.queue_qos0_messages);
  EXPECT_FALSE(config.retain_available);
  EXPECT_TRUE(config.set_tcp_nodelay);
  EXPECT_EQ(config.sys_interval, 0u);
  EXPECT_EQ(config.threads, 4);
  EXPECT_TRUE(config.upgrade_outgoing_qos);
  EXPECT_EQ(config.user, "stellwerk");
  EXPECT_EQ(config.wakeup_coalescing_us, 250);
  EXPECT_FALSE(config.worker_balance);
  EXPECT_FALSE(config.batch_system_calls);
}

TEST(ConfigDirectives, PersistenceValues) {
  const Config config = parse_every_directive();
  EXPECT_TRUE(config.persistence);
  EXPECT_EQ(config.persistence_file, "state.db");
  EXPECT_EQ(config.persistence_location, "/var/lib/stellwerk/");
  EXPECT_EQ(config.persistence_sync, PersistenceSync::interval);
  EXPECT_EQ(config.persistence_sync_interval_ms, 250u);
  EXPECT_EQ(config.persistent_client_expiration, 14 * 86400);
}

TEST(ConfigDirectives, ListenerValues) {
  const Config config = parse_every_directive();
  ASSERT_EQ(config.listeners.size(), 2u);
  const ListenerConfig& tls = config.listeners[0];
  EXPECT_EQ(tls.port, 8883);
  EXPECT_EQ(tls.bind_address, "127.0.0.1");
  EXPECT_EQ(tls.cafile, "/tls/ca.pem");
  EXPECT_EQ(tls.capath, "/tls/ca.d");
  EXPECT_EQ(tls.certfile, "/tls/server.pem");
  EXPECT_EQ(tls.ciphers, "ECDHE-RSA-AES128-GCM-SHA256");
  EXPECT_EQ(tls.ciphers_tls13, "TLS_AES_128_GCM_SHA256");
  EXPECT_EQ(tls.crlfile, "/tls/crl.pem");
  EXPECT_EQ(tls.keyfile, "/tls/server.key");
  EXPECT_EQ(tls.proxy_protocol, "2");
  EXPECT_EQ(tls.max_connections, 20);
  EXPECT_EQ(tls.protocol, "websockets");
  EXPECT_EQ(tls.psk_hint, "stellwerk");
  EXPECT_TRUE(tls.require_certificate);
  EXPECT_EQ(tls.socket_domain, "ipv6");
  EXPECT_EQ(tls.tls_version, "tlsv1.3");
  EXPECT_TRUE(tls.use_identity_as_username);
  EXPECT_TRUE(tls.use_subject_as_username);
}

TEST(ConfigDirectives, PortAndBindAddressMakeTheDefaultListener) {
  const Config config = parse_every_directive();
  ASSERT_EQ(config.listeners.size(), 2u);
  const ListenerConfig& default_listener = config.listeners[1];
  EXPECT_EQ(default_listener.port, 1884);
  EXPECT_EQ(default_listener.bind_address, "10.0.0.1");
  EXPECT_EQ(default_listener.max_connections, 500) << "inherits the global max_connections";
  EXPECT_EQ(default_listener.protocol, "mqtt");
}

TEST(ConfigDirectives, DurationUnits) {
  const std::pair<const char*, int64_t> cases[] = {
      {"2h", 2 * 3600}, {"1d", 86400}, {"3w", 3 * 7 * 86400}, {"2m", 60 * 86400}, {"1y", 365 * 86400}};
  for (const auto& [text, seconds] : cases) {
    const Config config = parse_ok(std::string("persistent_client_expiration ") + text);
    EXPECT_EQ(config.persistent_client_expiration, seconds) << text;
  }
}

TEST(ConfigDirectives, MaxPacketSizeZeroMeansDefault) {
  EXPECT_EQ(parse_ok("max_packet_size 0").max_packet_size, kDefaultMaxPacketSize);
  EXPECT_EQ(parse_ok("max_packet_size 268435455").max_packet_size, kLargestMaxPacketSize);
  EXPECT_EQ(parse_ok("max_packet_size 20").max_packet_size, 20u);
}

TEST(ConfigDirectives, LogDestNoneResetsAndLaterDestinationsReplaceIt) {
  EXPECT_EQ(parse_ok("log_dest stderr\nlog_dest none").log_dest, std::vector<std::string>{"none"});
  EXPECT_EQ(parse_ok("log_dest none\nlog_dest syslog").log_dest, std::vector<std::string>{"syslog"});
  EXPECT_EQ(parse_ok("log_dest topic\nlog_dest topic").log_dest, std::vector<std::string>{"topic"});
  EXPECT_EQ(parse_ok("log_dest file /var/log/a b.log").log_dest,
            std::vector<std::string>{"file /var/log/a b.log"});
}

TEST(ConfigDirectives, LogTypeAllAndNoneReplaceTheList) {
  EXPECT_EQ(parse_ok("log_type debug\nlog_type all").log_types, std::vector<LogType>{LogType::all});
  EXPECT_EQ(parse_ok("log_type all\nlog_type debug").log_types, std::vector<LogType>{LogType::all});
  EXPECT_EQ(parse_ok("log_type all\nlog_type none").log_types, std::vector<LogType>{LogType::none});
  EXPECT_EQ(parse_ok("log_type none\nlog_type warning").log_types, std::vector<LogType>{LogType::warning});
  EXPECT_EQ(parse_ok("log_type notice\nlog_type information\nlog_type unsubscribe").log_types,
            (std::vector<LogType>{LogType::notice, LogType::information, LogType::unsubscribe}));
}

TEST(ConfigDirectives, CommentsBlankLinesTabsAndCrLf) {
  const Config config = parse_ok(
      "# comment\r\n\r\n   \t\n  # indented comment\nsys_interval\t5\r\nretain_available false # why\n"
      "pid_file /run/with # hash.pid\n");
  EXPECT_EQ(config.sys_interval, 5u);
  EXPECT_FALSE(config.retain_available);
  EXPECT_EQ(config.pid_file, "/run/with # hash.pid") << "a string value is the rest of the line";
}

TEST(ConfigDirectives, EmptyTextIsTheDefaultConfig) {
  EXPECT_EQ(parse_ok(""), Config{});
  EXPECT_EQ(parse_ok("# nothing but comments\n\n"), Config{});
}

TEST(ConfigDirectives, IntegersAcceptTheirBounds) {
  EXPECT_EQ(parse_ok("max_keepalive 10").max_keepalive, 10);
  EXPECT_EQ(parse_ok("max_keepalive 65535").max_keepalive, 65535);
  EXPECT_EQ(parse_ok("max_inflight_messages 65535").max_inflight_messages, 65535);
  EXPECT_EQ(parse_ok("max_queued_bytes 9223372036854775807").max_queued_bytes, INT64_MAX);
  EXPECT_EQ(parse_ok("max_connections -1").max_connections, -1);
}

}  // namespace
}  // namespace stellwerk::config

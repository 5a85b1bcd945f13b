// Broker configuration: the mosquitto.conf line format read into plain structs.
//
// A file is a list of `key value` lines. `listener PORT [ADDRESS]` opens a
// listener section: listener-scoped keys after it (up to the next `listener`
// line or the end of that file) configure that listener. Listener-scoped keys
// before the first `listener` line of a file configure the implicit default
// listener, which `port` and `bind_address` also set, exactly as mosquitto 2
// does. Every directive is declared once, in directives.cpp; the parser and
// docs/configuration.md are both derived from that table.
//
// Loading never throws and never half-applies: the result is a complete Config
// or the first error, naming file, line and key.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "config/files.h"

namespace stellwerk::config {

inline constexpr uint16_t kDefaultPort = 1883;
inline constexpr uint32_t kDefaultMaxPacketSize = 1048576;
inline constexpr uint32_t kLargestMaxPacketSize = 268435455;

struct ListenerConfig {
  uint16_t port = kDefaultPort;
  std::string bind_address;       // "" = all interfaces
  std::string protocol = "mqtt";  // "mqtt" or "websockets"
  std::string socket_domain;      // "", "ipv4", "ipv6"
  std::string proxy_protocol;     // "", "1", "2": PROXY header version (enable_proxy_protocol)
  int64_t max_connections = -1;   // -1 = unlimited

  // TLS settings, stored for the transport that wires them up.
  std::string cafile;
  std::string capath;
  std::string certfile;
  std::string keyfile;
  std::string tls_version;  // "", "tlsv1.1", "tlsv1.2", "tlsv1.3"
  std::string ciphers;
  std::string ciphers_tls13;  // key `ciphers_tls1.3`
  std::string crlfile;
  std::string psk_hint;
  bool require_certificate = false;
  bool use_identity_as_username = false;
  bool use_subject_as_username = false;

  bool operator==(const ListenerConfig&) const = default;
};

enum class LogType { error, warning, notice, information, debug, subscribe, unsubscribe, all, none };

// When the store makes acknowledged state durable (DESIGN.md, principle 6).
enum class PersistenceSync { always, interval, never };

struct Config {
  // Empty = mosquitto 2 "local only" mode: loopback listeners only, on
  // local_only_ports (see effective_listeners()).
  std::vector<ListenerConfig> listeners;
  bool listeners_configured() const;

  // Ports for local-only mode, from command line `-p`; empty = 1883.
  std::vector<uint16_t> local_only_ports;
  // What the server should open: `listeners`, or in local-only mode one
  // 127.0.0.1 and one ::1 listener per local-only port (mosquitto opens both
  // and tolerates one of them failing). Every listener's max_connections is
  // final: those that set none already carry the global max_connections.
  std::vector<ListenerConfig> effective_listeners() const;

  std::optional<bool> allow_anonymous;  // unset: true in local-only mode, else false
  bool effective_allow_anonymous() const;

  uint32_t max_packet_size = kDefaultMaxPacketSize;  // 20..268435455; 0 in the file = default
  int64_t max_queued_messages = 1000;                // per client, 0 = unlimited
  int64_t max_queued_bytes = 0;                      // 0 = unlimited
  int64_t max_inflight_messages = 20;                // 0 = unlimited (capped at 65535)
  int64_t max_inflight_bytes = 0;                    // 0 = unlimited
  uint16_t max_keepalive = 65535;
  int64_t persistent_client_expiration = -1;  // seconds; -1 = never
  bool retain_available = true;
  int64_t max_connections = -1;  // default for listeners that set none; -1 = unlimited
  uint32_t sys_interval = 10;    // seconds, 0 = off
  // Each entry: "stderr", "stdout", "syslog", "topic", "none" or "file PATH".
  // Empty = the default, stderr.
  std::vector<std::string> log_dest;
  // Empty = the default: error, warning, notice, information.
  std::vector<LogType> log_types;
  bool log_timestamp = true;
  bool connection_messages = true;
  std::string pid_file;
  std::string user;                // when started as root, drop privileges to it; "" = stay
  int threads = 0;                 // 0 = number of cores this process may run on
  int wakeup_coalescing_us = 200;  // net::WorkerOptions::wakeup_coalescing
  bool worker_balance = true;      // server/worker_balance.h
  bool batch_system_calls = true;  // net::WorkerOptions::batch_system_calls
  bool queue_qos0_messages = false;
  bool upgrade_outgoing_qos = false;
  bool set_tcp_nodelay = false;

  // Persistence, stored for the store module.
  bool persistence = false;
  std::string persistence_location;
  std::string persistence_file;  // "" = the store's own default name
  int64_t autosave_interval = 1800;
  bool autosave_on_changes = false;
  PersistenceSync persistence_sync = PersistenceSync::interval;
  uint32_t persistence_sync_interval_ms = 100;

  // Unix domain socket for `stellwerk ctl` (the admin module); "" = none.
  std::string admin_socket;

  // Authentication, stored for the auth module.
  std::string password_file;
  std::string acl_file;
  std::string psk_file;

  bool operator==(const Config&) const = default;
};

struct ConfigError {
  std::string file;
  int line = 0;  // 1-based; 0 = the error concerns the whole file
  std::string key;
  std::string message;
  // "file:line: key: message" (line and key left out when unknown).
  std::string to_string() const;
};

// Reads the file at `path` and the files its include_dir lines name.
Result<Config, ConfigError> load_file(const std::string& path);
Result<Config, ConfigError> load_file(const std::string& path, const ConfigFiles& files);

// Parses `text` as if read from `file_name` (used in error messages).
// include_dir lines are read through `files` (the real disk by default).
Result<Config, ConfigError> parse_text(std::string_view text, std::string_view file_name);
Result<Config, ConfigError> parse_text(std::string_view text, std::string_view file_name,
                                       const ConfigFiles& files);

// Command line `-p PORT`, as mosquitto 2 does it: in local-only mode the
// loopback listeners move to PORT (repeat for several ports); when the
// configuration defines listeners, `-p` is ignored with a warning.
void apply_port_override(Config& config, uint16_t port);

// Markdown tables of every directive, generated from the directive table;
// docs/configuration.md embeds this text verbatim (a unit test checks it).
std::string directives_markdown();

}  // namespace stellwerk::config

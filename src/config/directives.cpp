// The directive table itself: every key Stellwerk reads, and the mosquitto 2
// keys it knowingly rejects. Adding a key means adding a row here (and a field
// in config.h); the parser, its error messages and docs/configuration.md all
// follow from the row. Rows are alphabetical within their scope.
#include "config/directives.h"

#include <algorithm>

#include "config/setters.h"

namespace stellwerk::config {
namespace {

constexpr Scope kGlobal = Scope::global;
constexpr Scope kListener = Scope::listener;
constexpr int64_t kInt32Max = 2147483647;

constexpr Directive flag(std::string_view name, Scope scope, Setter set, std::string_view default_text,
                         std::string_view doc) {
  return {.name = name, .scope = scope, .kind = ValueKind::boolean, .set = set,
          .default_text = default_text, .doc = doc};
}

constexpr Directive integer(std::string_view name, Scope scope, int64_t min, int64_t max, Setter set,
                            std::string_view default_text, std::string_view doc) {
  return {.name = name, .scope = scope, .kind = ValueKind::integer, .set = set,
          .default_text = default_text, .doc = doc, .min = min, .max = max};
}

constexpr Directive text(std::string_view name, Scope scope, std::string_view syntax, Setter set,
                         std::string_view default_text, std::string_view doc) {
  return {.name = name, .scope = scope, .kind = ValueKind::string, .set = set,
          .default_text = default_text, .doc = doc, .syntax = syntax};
}

constexpr Directive choice(std::string_view name, Scope scope, std::string_view choices, Setter set,
                           std::string_view default_text, std::string_view doc) {
  return {.name = name, .scope = scope, .kind = ValueKind::choice, .set = set,
          .default_text = default_text, .doc = doc, .syntax = choices};
}

constexpr Directive special(std::string_view name, std::string_view syntax, Setter set,
                            std::string_view default_text, std::string_view doc) {
  return {.name = name, .scope = kGlobal, .kind = ValueKind::special, .set = set,
          .default_text = default_text, .doc = doc, .syntax = syntax};
}

constexpr Directive stellwerk_only(Directive directive) {
  directive.origin = Origin::stellwerk;
  return directive;
}

const Directive kDirectives[] = {
    text("acl_file", kGlobal, "PATH", to_global<&Config::acl_file>, "(none)",
         "Access control list file in mosquitto's format."),
    stellwerk_only(text("admin_socket", kGlobal, "PATH", to_global<&Config::admin_socket>, "(none)",
                        "Unix domain socket (mode 0600) on which `stellwerk ctl` manages the running "
                        "broker: retained messages, backups. Replaces a stale socket file; removed at exit.")),
    flag("allow_anonymous", kGlobal, to_global<&Config::allow_anonymous>, "(unset)",
         "Admit clients that send no username. Unset: true in local-only mode, false as soon as "
         "any listener is configured."),
    integer("autosave_interval", kGlobal, 0, kInt32Max, to_global<&Config::autosave_interval>, "1800",
            "With persistence: seconds between snapshots (or changes, see autosave_on_changes); "
            "0 = only at shutdown."),
    flag("autosave_on_changes", kGlobal, to_global<&Config::autosave_on_changes>, "false",
         "Count autosave_interval in changes to persistent state instead of seconds."),
    stellwerk_only(flag("batch_system_calls", kGlobal, to_global<&Config::batch_system_calls>, "true",
                        "Let a worker that has several sockets to read, or to write, in one turn hand "
                        "them to the kernel in one io_uring call instead of one system call each "
                        "(docs/performance.md, slow clients). Where the kernel refuses io_uring the "
                        "worker logs it and makes one call per socket.")),
    text("bind_address", kGlobal, "ADDRESS", set_bind_address, "(all interfaces)",
         "Address of the default listener. Kept for mosquitto files; prefer `listener PORT ADDRESS`."),
    flag("connection_messages", kGlobal, to_global<&Config::connection_messages>, "true",
         "Log each client connect and disconnect."),
    special("include_dir", "DIR", set_include_dir, "(none)",
            "Read every `*.conf` file in DIR in mosquitto's order (00.conf, A.conf, a.conf, B.conf). "
            "Main file only; a relative DIR is relative to the working directory."),
    special("listener", "PORT [ADDRESS]", set_listener, "(none)",
            "Start a listener section: a listener on PORT (1..65535), bound to ADDRESS or to all "
            "interfaces. Listener keys that follow in the same file configure it."),
    special("log_dest", "stderr|stdout|syslog|topic|none|file PATH", set_log_dest, "(stderr)",
            "Where log lines go. May be repeated to log to several places; `none` turns logging "
            "off; at most one `file`."),
    flag("log_timestamp", kGlobal, to_global<&Config::log_timestamp>, "true",
         "Start each log line with a timestamp."),
    choice("log_type", kGlobal, "error|warning|notice|information|debug|subscribe|unsubscribe|all|none",
           set_log_type, "(error, warning, notice, information)",
           "Which messages to log. May be repeated to add types; `all` and `none` replace the list."),
    integer("max_inflight_bytes", kGlobal, 0, kNoUpperLimit, to_global<&Config::max_inflight_bytes>, "0",
            "Per client: bytes of outgoing QoS 1 and 2 messages in flight at once; 0 = no limit."),
    integer("max_inflight_messages", kGlobal, 0, 65535, to_global<&Config::max_inflight_messages>, "20",
            "Per client: outgoing QoS 1 and 2 messages in flight at once; 0 = no limit (65535)."),
    integer("max_keepalive", kGlobal, 10, 65535, to_global<&Config::max_keepalive>, "65535",
            "Longest keep-alive in seconds; MQTT v5 clients asking for more are told this value."),
    integer("max_packet_size", kGlobal, 0, kLargestMaxPacketSize, set_max_packet_size, "1048576",
            "Largest packet in bytes a client may send; larger ones disconnect it. 0 = the default; "
            "1..19 are refused."),
    integer("max_queued_bytes", kGlobal, 0, kNoUpperLimit, to_global<&Config::max_queued_bytes>, "0",
            "Per client: bytes of QoS 1 and 2 messages queued beyond those in flight; 0 = no limit."),
    integer("max_queued_messages", kGlobal, 0, kNoUpperLimit, to_global<&Config::max_queued_messages>,
            "1000", "Per client: QoS 1 and 2 messages queued beyond those in flight; 0 = no limit."),
    text("password_file", kGlobal, "PATH", to_global<&Config::password_file>, "(none)",
         "Password file in mosquitto's format (`stellwerk passwd` writes one)."),
    flag("persistence", kGlobal, to_global<&Config::persistence>, "false",
         "Keep retained messages, sessions and queues on disk across restarts."),
    text("persistence_file", kGlobal, "NAME", to_global<&Config::persistence_file>, "(store default)",
         "File name of the persistent state inside persistence_location."),
    text("persistence_location", kGlobal, "DIR", to_global<&Config::persistence_location>,
         "(working directory)", "Directory for the persistent state."),
    stellwerk_only(choice("persistence_sync", kGlobal, "always|interval|never", set_persistence_sync,
                          "interval",
                          "When acknowledged state reaches the disk: `always` before the "
                          "acknowledgement (group commit; nothing lost on power loss), `interval` "
                          "written before the acknowledgement and synced every "
                          "persistence_sync_interval_ms (nothing lost on kill -9), `never` written, "
                          "syncing left to the OS.")),
    stellwerk_only(integer("persistence_sync_interval_ms", kGlobal, 1, 60000,
                           to_global<&Config::persistence_sync_interval_ms>, "100",
                           "Milliseconds between syncs with `persistence_sync interval`.")),
    {.name = "persistent_client_expiration", .scope = kGlobal, .kind = ValueKind::duration,
     .set = to_global<&Config::persistent_client_expiration>, .default_text = "(never)",
     .doc = "Remove persistent sessions whose client has been away this long: a count and h, d, w, "
            "m (30 days) or y, e.g. `14d`."},
    text("pid_file", kGlobal, "PATH", to_global<&Config::pid_file>, "(none)",
         "Write the broker's process id to PATH."),
    integer("port", kGlobal, 1, 65535, set_port, "1883",
            "Port of the default listener. Kept for mosquitto files; prefer `listener PORT`."),
    text("psk_file", kGlobal, "PATH", to_global<&Config::psk_file>, "(none)",
         "Pre-shared keys for TLS-PSK listeners, `identity:hexkey` per line."),
    flag("queue_qos0_messages", kGlobal, to_global<&Config::queue_qos0_messages>, "false",
         "Also queue QoS 0 messages for offline persistent sessions (counted in max_queued_messages)."),
    flag("retain_available", kGlobal, to_global<&Config::retain_available>, "true",
         "Support retained messages; when false a client that publishes one is disconnected."),
    flag("set_tcp_nodelay", kGlobal, to_global<&Config::set_tcp_nodelay>, "false",
         "Disable Nagle's algorithm on client sockets."),
    integer("sys_interval", kGlobal, 0, 65535, to_global<&Config::sys_interval>, "10",
            "Seconds between $SYS topic updates; 0 = no $SYS topics. The topics are mosquitto's "
            "(`$SYS/broker/clients/connected`, `messages/received`, ...); with persistence, Stellwerk adds "
            "`$SYS/broker/persistence/records`, `writes` (one per group commit or worker loop turn), "
            "`syncs`, `snapshots` and `log bytes`, counted since start."),
    stellwerk_only(integer("threads", kGlobal, 0, 1024, to_global<&Config::threads>, "0",
                           "Worker event loops; 0 = one per core this process may run on.")),
    flag("upgrade_outgoing_qos", kGlobal, to_global<&Config::upgrade_outgoing_qos>, "false",
         "Deliver at the subscription's QoS even when the message was published with a lower one "
         "(not what the MQTT specification says)."),
    text("user", kGlobal, "NAME", to_global<&Config::user>, "(none)",
         "When started as root, switch to this user after opening listeners; unset = stay."),
    stellwerk_only(integer("wakeup_coalescing_us", kGlobal, 0, 10000,
                           to_global<&Config::wakeup_coalescing_us>, "200",
                           "Microseconds a worker that wakes often waits before it sleeps again, so "
                           "that it handles the messages of many slow clients in one turn. Costs "
                           "messages up to this much latency under a steady trickle, saves CPU: with "
                           "5,000 clients at 4 messages/s, about 40 % of it (docs/performance.md, slow "
                           "clients). Only while the worker was busy at least 45 % of the last 100 ms, "
                           "so a worker with CPU to spare answers at once; never delays a worker with "
                           "work waiting. 0 = sleep at once (lowest latency).")),
    stellwerk_only(flag("worker_balance", kGlobal, to_global<&Config::worker_balance>, "true",
                        "With several worker threads, park a worker (its connections move to the "
                        "others) when the workers wait for cores that other programs hold, or their "
                        "work would fit on one fewer, and keep that unless the broker then moves 5 % "
                        "fewer bytes; unpark it when "
                        "the rest are saturated and that gains (docs/design/worker-balance.md). "
                        "false = every worker always takes connections.")),

    text("cafile", kListener, "PATH", to_listener<&ListenerConfig::cafile>, "(none)",
         "TLS: PEM file of CA certificates that client certificates must chain to."),
    text("capath", kListener, "DIR", to_listener<&ListenerConfig::capath>, "(none)",
         "TLS: directory of hashed CA certificates, instead of or beside cafile."),
    text("certfile", kListener, "PATH", to_listener<&ListenerConfig::certfile>, "(none)",
         "TLS: PEM server certificate; with keyfile, turns TLS on for the listener."),
    text("ciphers", kListener, "LIST", to_listener<&ListenerConfig::ciphers>, "(OpenSSL default)",
         "TLS up to 1.2: allowed ciphers, in OpenSSL's cipher list format."),
    text("ciphers_tls1.3", kListener, "LIST", to_listener<&ListenerConfig::ciphers_tls13>,
         "(OpenSSL default)", "TLS 1.3: allowed cipher suites, in OpenSSL's format."),
    text("crlfile", kListener, "PATH", to_listener<&ListenerConfig::crlfile>, "(none)",
         "TLS: PEM certificate revocation list checked for client certificates."),
    choice("enable_proxy_protocol", kListener, "1|2", to_listener<&ListenerConfig::proxy_protocol>, "(off)",
           "Every connection starts with a PROXY protocol header of this version (HAProxy's text v1 or "
           "binary v2) naming the real client; connections without one are closed. Only for listeners "
           "behind a trusted proxy."),
    text("keyfile", kListener, "PATH", to_listener<&ListenerConfig::keyfile>, "(none)",
         "TLS: PEM private key of certfile."),
    integer("max_connections", Scope::listener_or_global, -1, kInt32Max, set_max_connections, "-1",
            "Most clients connected at once through a listener; -1 = unlimited. Before any "
            "`listener` line: the limit for every listener that sets none."),
    choice("protocol", kListener, "mqtt|websockets", to_listener<&ListenerConfig::protocol>, "mqtt",
           "MQTT over plain TCP/TLS, or over WebSocket."),
    text("psk_hint", kListener, "HINT", to_listener<&ListenerConfig::psk_hint>, "(none)",
         "TLS-PSK: hint sent to clients; setting it turns TLS-PSK on for the listener."),
    flag("require_certificate", kListener, to_listener<&ListenerConfig::require_certificate>, "false",
         "TLS: clients must present a certificate that cafile or capath accepts."),
    choice("socket_domain", kListener, "ipv4|ipv6", to_listener<&ListenerConfig::socket_domain>,
           "(both)", "Listen on IPv4 or IPv6 only."),
    choice("tls_version", kListener, "tlsv1.3|tlsv1.2", to_listener<&ListenerConfig::tls_version>,
           "(tlsv1.2 and newer)", "TLS: the lowest protocol version accepted (newer ones always are)."),
    flag("use_identity_as_username", kListener, to_listener<&ListenerConfig::use_identity_as_username>,
         "false", "TLS: use the certificate's Common Name (or the PSK identity) as the username."),
    flag("use_subject_as_username", kListener, to_listener<&ListenerConfig::use_subject_as_username>,
         "false", "TLS: use the certificate's whole subject as the username."),
};

const UnsupportedKey kUnsupported[] = {
    {"address", "bridge"}, {"addresses", "bridge"}, {"bridge_*", "bridge"},
    {"cleansession", "bridge"}, {"clientid", "bridge"}, {"connection", "bridge"},
    {"idle_timeout", "bridge"}, {"keepalive_interval", "bridge"}, {"local_cleansession", "bridge"},
    {"local_clientid", "bridge"}, {"local_password", "bridge"}, {"local_username", "bridge"},
    {"notification_topic", "bridge"}, {"notifications", "bridge"},
    {"notifications_local_only", "bridge"}, {"password", "bridge"}, {"remote_clientid", "bridge"},
    {"remote_password", "bridge"}, {"remote_username", "bridge"}, {"restart_timeout", "bridge"},
    {"round_robin", "bridge"}, {"start_type", "bridge"}, {"threshold", "bridge"},
    {"topic", "bridge"}, {"try_private", "bridge"}, {"username", "bridge"},
    {"auth_opt_*", "plugin"}, {"auth_plugin", "plugin"}, {"auth_plugin_deny_special_chars", "plugin"},
    {"plugin", "plugin"}, {"plugin_opt_*", "plugin"},
    {"per_listener_settings", "security"},
    {"allow_zero_length_clientid", "client id"}, {"auto_id_prefix", "client id"},
    {"clientid_prefixes", "client id"}, {"use_username_as_clientid", "client id"},
    {"bind_interface", "listener"}, {"http_dir", "listener"}, {"max_qos", "listener"},
    {"maximum_qos", "listener"}, {"max_topic_alias", "listener"}, {"mount_point", "listener"},
    {"websockets_headers_size", "listener"}, {"websockets_log_level", "listener"},
    {"dhparamfile", "TLS"}, {"tls_engine", "TLS"}, {"tls_engine_kpass_sha1", "TLS"},
    {"tls_keyform", "TLS"},
    {"log_facility", "logging"}, {"log_timestamp_format", "logging"},
    {"memory_limit", "limits"}, {"message_size_limit", "limits"},
    {"allow_duplicate_messages", "legacy"}, {"check_retain_source", "legacy"},
    {"retained_persistence", "legacy"}, {"retry_interval", "legacy"},
};

bool matches(std::string_view pattern, std::string_view name) {
  if (pattern.ends_with('*')) return name.starts_with(pattern.substr(0, pattern.size() - 1));
  return pattern == name;
}

}  // namespace

std::span<const Directive> directives() { return kDirectives; }

std::span<const UnsupportedKey> unsupported_mosquitto_keys() { return kUnsupported; }

const Directive* find_directive(std::string_view name) {
  const auto found = std::find_if(std::begin(kDirectives), std::end(kDirectives),
                                  [&](const Directive& d) { return d.name == name; });
  return found == std::end(kDirectives) ? nullptr : &*found;
}

const UnsupportedKey* find_unsupported(std::string_view name) {
  const auto found = std::find_if(std::begin(kUnsupported), std::end(kUnsupported),
                                  [&](const UnsupportedKey& key) { return matches(key.name, name); });
  return found == std::end(kUnsupported) ? nullptr : &*found;
}

}  // namespace stellwerk::config

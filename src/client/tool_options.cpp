// Shared options of the pub / sub tools (see tool_options.h). The checks and
// messages follow mosquitto_pub / mosquitto_sub where they have one, so
// scripts written against those tools behave the same.
#include "client/tool_options.h"

#include <unistd.h>

#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include <charconv>
#include <cstdio>

#include "client/packet_trace.h"

namespace stellwerk::client {
namespace {

// mosquitto's error numbers (mosquitto.h), used as exit codes by its tools.
constexpr int kExitProtocol = 2;
constexpr int kExitConnectionLost = 7;
constexpr int kExitTimeout = 27;

// 3.1 caps client ids at 23 bytes.
constexpr size_t kMaxV31ClientId = 23;

void add_will_options(CLI::App& app, ToolOptions& options) {
  app.add_option("--will-topic", options.will_topic, "topic of the client's will");
  app.add_option("--will-payload", options.will_payload, "payload of the will (default: empty)");
  app.add_option("--will-qos", options.will_qos, "QoS of the will");
  app.add_flag("--will-retain", options.will_retain, "make the will retained");
}

std::string default_client_id(const ToolOptions& options, mqtt::Version version,
                              std::string_view tool) {
  if (options.id) return *options.id;
  if (options.id_prefix) return *options.id_prefix + std::to_string(::getpid());
  // 3.1 servers need an id; later versions let the server assign one.
  if (version != mqtt::Version::v31) return {};
  return fmt::format("stellwerk_{}_{}", tool, ::getpid()).substr(0, kMaxV31ClientId);
}

ClientResult<mqtt::QoS> parse_qos(int value, std::string_view what) {
  if (value < 0 || value > 2) {
    return client_error(ErrorKind::usage, fmt::format("invalid {} {}: use 0, 1 or 2", what, value));
  }
  return static_cast<mqtt::QoS>(value);
}

ClientStatus check_ranges(const ToolOptions& options) {
  if (options.port < 1 || options.port > 65535) {
    return client_error(ErrorKind::usage, fmt::format("invalid port {}", options.port));
  }
  if (options.keepalive < 0 || options.keepalive > 65535) {
    return client_error(ErrorKind::usage,
                        fmt::format("invalid keepalive {}: use 0 to 65535", options.keepalive));
  }
  if (options.id && options.id_prefix) {
    return client_error(ErrorKind::usage, "-i and -I cannot be used together");
  }
  if (options.no_clean_session && !options.id && !options.id_prefix) {
    return client_error(ErrorKind::usage, "a client id (-i) is needed with -c");
  }
  return {};
}

ClientResult<std::optional<mqtt::Will>> make_will(const ToolOptions& options,
                                                  const PropertyOptions& properties) {
  if (!options.will_topic) {
    if (options.will_payload || options.will_qos || options.will_retain) {
      return client_error(ErrorKind::usage, "will options given, but no will topic");
    }
    return std::optional<mqtt::Will>();
  }
  auto qos = parse_qos(options.will_qos.value_or(0), "will QoS");
  if (!qos) return fail(qos.error());
  return std::optional<mqtt::Will>(mqtt::Will{*options.will_topic,
                                              options.will_payload.value_or(""), qos.value(),
                                              options.will_retain, properties.will});
}

ClientResult<PropertyOptions> parse_properties(const ToolOptions& options) {
  PropertyOptions properties;
  for (const auto& words : options.properties) {
    if (auto added = add_property_option(words, properties); !added) return fail(added.error());
  }
  return properties;
}

// Session Expiry Interval for v5: -x wins over -D; -c alone means "never
// expires", as in mosquitto.
ClientStatus set_session_expiry(const ToolOptions& options, mqtt::Properties& connect) {
  if (options.session_expiry) {
    auto expiry = parse_session_expiry(*options.session_expiry);
    if (!expiry) return fail(expiry.error());
    connect.session_expiry_interval = expiry.value();
  } else if (options.no_clean_session && !connect.session_expiry_interval) {
    connect.session_expiry_interval = UINT32_MAX;
  }
  return {};
}

}  // namespace

void add_common_options(CLI::App& app, ToolOptions& options) {
  app.set_help_flag("--help", "print this help and exit");
  app.option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
  app.add_option("-h,--host", options.host, "broker host name or address (default localhost)");
  app.add_option("-p,--port", options.port, "broker port (default 1883)");
  app.add_option("-i,--id", options.id, "client id (default: assigned by the broker)");
  app.add_option("-I,--id-prefix", options.id_prefix, "client id prefix, the process id follows");
  app.add_option("-u,--username", options.username, "user name");
  app.add_option("-P,--pw", options.password, "password");
  app.add_option("-k,--keepalive", options.keepalive, "keep-alive in seconds (default 60)");
  app.add_flag("-c,--disable-clean-session", options.no_clean_session,
               "keep the session (clean session / clean start off)");
  app.add_option("-V,--protocol-version", options.version, "mqttv5, mqttv311 or mqttv31");
  app.add_option("-x,--session-expiry-interval", options.session_expiry,
                 "v5 session expiry in seconds, -1 = never");
  app.add_option("-q,--qos", options.qos, "QoS 0, 1 or 2 (default 0)");
  app.add_option("-D,--property", options.properties,
                 "v5 property: command identifier value (user-property: key value)")
      ->expected(3, 4)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  add_will_options(app, options);
  app.add_flag("-d,--debug", options.debug, "print packets sent and received");
  app.add_flag("--quiet", options.quiet, "print no error messages");
}

std::optional<int> parse_command_line(CLI::App& app, int argc, char** argv,
                                      const ToolOptions& options, std::string_view tool) {
  try {
    // argv[0] is the subcommand's name, as a program name would be.
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp&) {
    std::fputs(app.help().c_str(), stdout);
    return 0;
  } catch (const CLI::ParseError& error) {
    return report_usage_error(options, error.what(), tool);
  }
  return std::nullopt;
}

ClientResult<mqtt::Version> parse_version(std::string_view text) {
  if (text == "mqttv5" || text == "5") return mqtt::Version::v5;
  if (text == "mqttv311" || text == "311") return mqtt::Version::v311;
  if (text == "mqttv31" || text == "31") return mqtt::Version::v31;
  return client_error(ErrorKind::usage, fmt::format("invalid protocol version '{}'", text));
}

ClientResult<uint32_t> parse_session_expiry(std::string_view text) {
  if (text == "-1" || text == "∞") return UINT32_MAX;
  uint32_t seconds = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), seconds);
  if (error != std::errc() || end != text.data() + text.size()) {
    return client_error(ErrorKind::usage, fmt::format("invalid session expiry '{}'", text));
  }
  return seconds;
}

ClientResult<ToolSetup> make_tool_setup(const ToolOptions& options, std::string_view tool) {
  auto version = parse_version(options.version);
  if (!version) return fail(version.error());
  if (auto checked = check_ranges(options); !checked) return fail(checked.error());
  auto qos = parse_qos(options.qos, "QoS");
  if (!qos) return fail(qos.error());
  auto properties = parse_properties(options);
  if (!properties) return fail(properties.error());
  auto will = make_will(options, properties.value());
  if (!will) return fail(will.error());

  ToolSetup setup;
  setup.qos = qos.value();
  setup.properties = std::move(properties).value();
  setup.connect.host = options.host;
  setup.connect.port = static_cast<uint16_t>(options.port);
  mqtt::Connect& connect = setup.connect.connect;
  connect.version = version.value();
  connect.clean_start = !options.no_clean_session;
  connect.keep_alive = static_cast<uint16_t>(options.keepalive);
  connect.client_id = default_client_id(options, version.value(), tool);
  connect.will = std::move(will).value();
  connect.username = options.username;
  connect.password = options.password;
  connect.properties = setup.properties.connect;
  if (version.value() == mqtt::Version::v5) {
    if (auto expiry = set_session_expiry(options, connect.properties); !expiry) {
      return fail(expiry.error());
    }
  }
  return setup;
}

int exit_code_for(const ClientError& error, mqtt::Version version) {
  switch (error.kind) {
    case ErrorKind::refused: {
      const mqtt::ReasonCode reason = error.reason.value_or(mqtt::ReasonCode::unspecified_error);
      if (version == mqtt::Version::v5) return static_cast<int>(reason);
      return static_cast<int>(mqtt::to_v3_connack_code(reason));
    }
    case ErrorKind::protocol: return kExitProtocol;
    case ErrorKind::closed: return kExitConnectionLost;
    case ErrorKind::timeout: return kExitTimeout;
    case ErrorKind::usage:
    case ErrorKind::network:
    case ErrorKind::rejected: return 1;
  }
  return 1;
}

int report_failure(const ToolOptions& options, const ClientError& error, mqtt::Version version) {
  if (!options.quiet) std::fprintf(stderr, "Error: %s\n", error.message.c_str());
  return exit_code_for(error, version);
}

int report_usage_error(const ToolOptions& options, std::string_view message,
                       std::string_view tool) {
  if (!options.quiet) {
    std::fprintf(stderr, "Error: %.*s\n\nUse 'stellwerk %.*s --help' to see usage.\n",
                 static_cast<int>(message.size()), message.data(), static_cast<int>(tool.size()),
                 tool.data());
  }
  return 1;
}

PacketObserver debug_observer(const Client& client) {
  return [&client](Direction direction, const mqtt::Packet& packet) {
    const std::string& id = client.session().client_id();
    std::fprintf(stderr, "Client %s %s %s\n", id.empty() ? "(null)" : id.c_str(),
                 direction == Direction::sent ? "sending" : "received",
                 describe_packet(packet).c_str());
  };
}

}  // namespace stellwerk::client

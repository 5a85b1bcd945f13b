// What `stellwerk pub` and `stellwerk sub` share: the connection options of
// mosquitto_pub / mosquitto_sub (-h -p -i -I -u -P -k -c -V -x -q -D, the will
// options, -d, --quiet), turning them into ConnectOptions, and reporting
// failures with mosquitto's exit codes.
//
// CLI11 stays out of this header; tool_options.cpp registers the options.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "client/client.h"
#include "client/error.h"
#include "client/property_option.h"
#include "mqtt/packet.h"

namespace CLI {
class App;
}

namespace stellwerk::client {

struct ToolOptions {
  std::string host = "localhost";
  int port = 1883;
  std::optional<std::string> id;
  std::optional<std::string> id_prefix;
  std::optional<std::string> username;
  std::optional<std::string> password;
  int keepalive = 60;
  bool no_clean_session = false;
  std::string version = "mqttv311";
  std::optional<std::string> session_expiry;  // -x
  int qos = 0;
  std::optional<std::string> will_topic;
  std::optional<std::string> will_payload;
  std::optional<int> will_qos;
  bool will_retain = false;
  std::vector<std::vector<std::string>> properties;  // one entry per -D
  bool debug = false;
  bool quiet = false;
};

// Everything needed to connect, checked.
struct ToolSetup {
  ConnectOptions connect;
  PropertyOptions properties;
  mqtt::QoS qos = mqtt::QoS::at_most_once;
};

// Registers the shared options on `app`. Help moves to --help only, since
// -h is the host as in mosquitto's tools.
void add_common_options(CLI::App& app, ToolOptions& options);

// Parses the command line. nullopt: carry on; a value: exit with it (help
// was printed, or a usage error was reported).
std::optional<int> parse_command_line(CLI::App& app, int argc, char** argv,
                                      const ToolOptions& options, std::string_view tool);

// Checks the shared options together and builds the connection settings.
// `tool` ("pub" / "sub") goes into the client id where one must be made up.
ClientResult<ToolSetup> make_tool_setup(const ToolOptions& options, std::string_view tool);

// "5" / "mqttv5", "311" / "mqttv311", "31" / "mqttv31".
ClientResult<mqtt::Version> parse_version(std::string_view text);
// Seconds, or "-1" / "4294967295" / "∞" for a session that never expires.
ClientResult<uint32_t> parse_session_expiry(std::string_view text);

// mosquitto's exit status for a failure: the CONNACK code for a refusal
// (3.1.x return code, or v5 reason code), otherwise its error numbers.
int exit_code_for(const ClientError& error, mqtt::Version version);

// "Error: ..." on stderr unless --quiet; returns the exit code to use.
int report_failure(const ToolOptions& options, const ClientError& error, mqtt::Version version);
// A usage error: the message and a pointer to --help; returns 1.
int report_usage_error(const ToolOptions& options, std::string_view message, std::string_view tool);

// Prints "Client <id> sending PUBLISH (...)" lines on stderr for -d.
PacketObserver debug_observer(const Client& client);

}  // namespace stellwerk::client

// `stellwerk pub`: publish to a broker, with mosquitto_pub's flags. The
// message comes from exactly one of -m (argument), -f (file), -s (all of
// stdin), -n (empty) or -l (stdin, one message per line). The tool waits
// until every QoS 1/2 message is acknowledged, then disconnects cleanly.
#include <unistd.h>

#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include <array>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "client/client.h"
#include "client/tool_options.h"
#include "commands_tools.h"
#include "mqtt/validate.h"

namespace {

using stellwerk::client::Client;
using stellwerk::client::ClientResult;
using stellwerk::client::ClientStatus;
using stellwerk::client::ErrorKind;
using stellwerk::client::ToolOptions;
using stellwerk::client::ToolSetup;
namespace mqtt = stellwerk::mqtt;

struct PubOptions {
  std::optional<std::string> topic;
  std::optional<std::string> message;
  std::optional<std::string> file;
  bool lines = false;
  bool null_message = false;
  bool whole_stdin = false;
  bool retain = false;
};

void add_pub_options(CLI::App& app, PubOptions& options) {
  app.add_option("-t,--topic", options.topic, "topic to publish to");
  app.add_option("-m,--message", options.message, "message payload");
  app.add_option("-f,--file", options.file, "send the contents of a file as the message");
  app.add_flag("-l,--stdin-line", options.lines, "send each line of stdin as a message");
  app.add_flag("-n,--null-message", options.null_message, "send an empty message");
  app.add_flag("-s,--stdin-file", options.whole_stdin, "send all of stdin as one message");
  app.add_flag("-r,--retain", options.retain, "retain the message");
}

ClientStatus check_pub_options(const PubOptions& options) {
  const int sources = options.message.has_value() + options.file.has_value() + options.lines +
                      options.null_message + options.whole_stdin;
  if (!options.topic || sources == 0) {
    return stellwerk::client::client_error(ErrorKind::usage,
                                           "both topic and message must be supplied");
  }
  if (sources > 1) {
    return stellwerk::client::client_error(ErrorKind::usage,
                                           "only one type of message can be sent at once");
  }
  if (!mqtt::is_valid_topic_name(*options.topic)) {
    return stellwerk::client::client_error(
        ErrorKind::usage, fmt::format("invalid publish topic '{}'", *options.topic));
  }
  return {};
}

ClientResult<std::string> read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream contents;
  if (in) contents << in.rdbuf();
  if (!in || in.bad()) {
    return stellwerk::client::client_error(ErrorKind::usage,
                                           fmt::format("unable to read file \"{}\"", path));
  }
  return contents.str();
}

ClientResult<std::string> read_stdin() {
  std::string contents;
  std::array<char, 64 * 1024> buffer;
  while (true) {
    const ssize_t count = ::read(STDIN_FILENO, buffer.data(), buffer.size());
    if (count == 0) return contents;
    if (count < 0 && errno == EINTR) continue;
    if (count < 0) {
      return stellwerk::client::client_error(
          ErrorKind::usage, fmt::format("cannot read standard input: {}", std::strerror(errno)));
    }
    contents.append(buffer.data(), static_cast<size_t>(count));
  }
}

// The payload of a single-message publish (everything but -l).
ClientResult<std::string> single_payload(const PubOptions& options) {
  if (options.message) return *options.message;
  if (options.file) return read_file(*options.file);
  if (options.whole_stdin) return read_stdin();
  return std::string();  // -n
}

ClientStatus publish_payload(Client& client, const mqtt::Publish& base, std::string payload) {
  mqtt::Publish message = base;
  message.payload = std::move(payload);
  auto id = client.publish(std::move(message));
  if (!id) return stellwerk::fail(id.error());
  return {};
}

// -l: one message per line of stdin (empty lines are empty messages, a last
// line without newline is sent too). While stdin is quiet the connection is
// still served, so keep-alive works for a slow producer.
ClientStatus publish_lines(Client& client, const mqtt::Publish& base) {
  std::string pending;
  std::array<char, 64 * 1024> buffer;
  while (true) {
    auto ready = client.wait_readable(STDIN_FILENO, stellwerk::client::no_deadline());
    if (!ready) return stellwerk::fail(ready.error());
    if (!ready.value()) continue;
    const ssize_t count = ::read(STDIN_FILENO, buffer.data(), buffer.size());
    if (count < 0 && errno == EINTR) continue;
    if (count < 0) {
      return stellwerk::client::client_error(
          ErrorKind::usage, fmt::format("cannot read standard input: {}", std::strerror(errno)));
    }
    if (count == 0) break;
    pending.append(buffer.data(), static_cast<size_t>(count));
    size_t start = 0;
    for (size_t end; (end = pending.find('\n', start)) != std::string::npos; start = end + 1) {
      if (auto sent = publish_payload(client, base, pending.substr(start, end - start)); !sent) {
        return sent;
      }
    }
    pending.erase(0, start);
  }
  if (pending.empty()) return {};
  return publish_payload(client, base, std::move(pending));
}

ClientStatus publish_all(Client& client, const PubOptions& options, const ToolSetup& setup,
                         std::string payload) {
  mqtt::Publish base;
  base.topic = *options.topic;
  base.qos = setup.qos;
  base.retain = options.retain;
  base.properties = setup.properties.publish;
  ClientStatus sent = options.lines ? publish_lines(client, base)
                                    : publish_payload(client, base, std::move(payload));
  if (!sent) return sent;
  return client.wait_for_publishes(stellwerk::client::no_deadline());
}

}  // namespace

int run_pub_command(int argc, char** argv) {
  ToolOptions common;
  PubOptions pub;
  CLI::App app{"Publish a message to an MQTT broker.", "stellwerk pub"};
  stellwerk::client::add_common_options(app, common);
  add_pub_options(app, pub);
  if (auto exit = stellwerk::client::parse_command_line(app, argc, argv, common, "pub")) {
    return *exit;
  }
  auto setup = stellwerk::client::make_tool_setup(common, "pub");
  if (!setup) return stellwerk::client::report_usage_error(common, setup.error().message, "pub");
  if (auto checked = check_pub_options(pub); !checked) {
    return stellwerk::client::report_usage_error(common, checked.error().message, "pub");
  }
  const mqtt::Version version = setup->connect.connect.version;
  // Read the payload before connecting: a missing file is a usage error.
  ClientResult<std::string> payload = pub.lines ? std::string() : single_payload(pub);
  if (!payload) return stellwerk::client::report_failure(common, payload.error(), version);

  Client client;
  if (common.debug) client.set_observer(stellwerk::client::debug_observer(client));
  if (auto connack = client.connect(setup->connect); !connack) {
    return stellwerk::client::report_failure(common, connack.error(), version);
  }
  ClientStatus published = publish_all(client, pub, setup.value(), std::move(payload).value());
  ClientStatus closed = client.disconnect(mqtt::Disconnect{{}, setup->properties.disconnect});
  if (!published) return stellwerk::client::report_failure(common, published.error(), version);
  if (!closed) return stellwerk::client::report_failure(common, closed.error(), version);
  return 0;
}

// `stellwerk sub`: subscribe and print what arrives, with mosquitto_sub's
// flags. Runs until -C messages were printed, -W seconds passed (exit 27, as
// mosquitto_sub), SIGINT / SIGTERM (exit 0 after a clean DISCONNECT), or
// the connection fails. Output is flushed after every message so that a
// reader on a pipe sees each one as it arrives.
#include <csignal>
#include <cstdio>

#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include "client/client.h"
#include "client/message_format.h"
#include "client/tool_options.h"
#include "commands_tools.h"
#include "mqtt/validate.h"

namespace {

using stellwerk::Clock;
using stellwerk::TimePoint;
using stellwerk::client::Client;
using stellwerk::client::ClientStatus;
using stellwerk::client::ErrorKind;
using stellwerk::client::ToolOptions;
using stellwerk::client::ToolSetup;
namespace mqtt = stellwerk::mqtt;

// mosquitto_sub's exit status when -W expires (MOSQ_ERR_TIMEOUT).
constexpr int kExitTimedOut = 27;
// How long one wait may take before the stop flag is looked at again.
constexpr auto kStopCheckInterval = std::chrono::milliseconds(200);

volatile std::sig_atomic_t stop_requested = 0;

void request_stop(int) { stop_requested = 1; }

void install_stop_handlers() {
  struct sigaction action {};
  action.sa_handler = request_stop;
  sigemptyset(&action.sa_mask);
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
}

struct SubOptions {
  std::vector<std::string> topics;
  std::vector<std::string> unsubscribe_topics;
  int count = 0;    // -C, 0 = no limit
  int timeout = 0;  // -W seconds, 0 = none
  bool verbose = false;
  bool no_newline = false;
  bool no_stale = false;
  bool exit_after_subscribe = false;
  std::string format;
};

void add_sub_options(CLI::App& app, SubOptions& options) {
  app.add_option("-t,--topic", options.topics, "topic filter to subscribe to (repeatable)")
      ->allow_extra_args(false)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  app.add_option("-U,--unsubscribe", options.unsubscribe_topics,
                 "topic filter to unsubscribe from (repeatable)")
      ->allow_extra_args(false)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  app.add_option("-C,--count", options.count, "exit after this many messages");
  app.add_option("-W,--timeout", options.timeout, "exit after this many seconds");
  app.add_flag("-v,--verbose", options.verbose, "print the topic before the payload");
  app.add_flag("-N,--no-eol", options.no_newline, "no newline after each message");
  app.add_flag("-R,--no-retain", options.no_stale, "skip retained (stale) messages");
  app.add_flag("-E,--exit-after-subscribe", options.exit_after_subscribe,
               "exit once the subscriptions are acknowledged");
  app.add_option("-F,--format", options.format, "output format (%t topic, %p payload, ...)");
}

ClientStatus check_sub_options(const SubOptions& options) {
  using stellwerk::client::client_error;
  if (options.topics.empty() && options.unsubscribe_topics.empty()) {
    return client_error(ErrorKind::usage, "you must specify a topic to subscribe to");
  }
  if (options.count < 0 || options.timeout < 0) {
    return client_error(ErrorKind::usage, "-C and -W take a positive number");
  }
  for (const auto& filters : {options.topics, options.unsubscribe_topics}) {
    for (const auto& filter : filters) {
      if (mqtt::is_valid_topic_filter(filter)) continue;
      return client_error(ErrorKind::usage, fmt::format("invalid subscription topic '{}'", filter));
    }
  }
  return stellwerk::client::check_format(options.format);
}

TimePoint deadline_after(int seconds_or_zero) {
  if (seconds_or_zero == 0) return stellwerk::client::no_deadline();
  return Clock::now() + std::chrono::seconds(seconds_or_zero);
}

// Subscribes to every -t filter in one SUBSCRIBE. Fails when the broker
// refused them all; a partial refusal is a warning, as in mosquitto_sub.
ClientStatus subscribe(Client& client, const SubOptions& options, const ToolSetup& setup,
                       bool quiet) {
  mqtt::Subscribe request;
  request.properties = setup.properties.subscribe;
  for (const auto& filter : options.topics) {
    request.topics.push_back(mqtt::TopicRequest{filter, {setup.qos}});
  }
  auto suback = client.subscribe(std::move(request), Clock::now() + setup.connect.timeout);
  if (!suback) return stellwerk::fail(suback.error());
  size_t refused = 0;
  for (size_t i = 0; i < suback->reasons.size(); ++i) {
    if (!mqtt::is_error(suback->reasons[i])) continue;
    ++refused;
    if (!quiet && i < options.topics.size()) {
      std::fprintf(stderr, "Warning: subscription to '%s' refused: %s\n", options.topics[i].c_str(),
                   stellwerk::client::describe_reason(suback->reasons[i]).c_str());
    }
  }
  if (refused > 0 && refused == suback->reasons.size()) {
    return stellwerk::client::client_error(ErrorKind::rejected,
                                           "all subscription requests were denied");
  }
  return {};
}

ClientStatus unsubscribe(Client& client, const SubOptions& options, const ToolSetup& setup) {
  mqtt::Unsubscribe request;
  request.properties = setup.properties.unsubscribe;
  request.filters = options.unsubscribe_topics;
  auto unsuback = client.unsubscribe(std::move(request), Clock::now() + setup.connect.timeout);
  if (!unsuback) return stellwerk::fail(unsuback.error());
  return {};
}

void print_message(const mqtt::Publish& message, const stellwerk::client::OutputOptions& output) {
  const std::string text =
      stellwerk::client::render_message(message, output, std::chrono::system_clock::now());
  std::fwrite(text.data(), 1, text.size(), stdout);
  std::fflush(stdout);
}

// Prints messages until -C, -W, a signal or an error. Returns the exit code
// for -W (or 0), or the error.
stellwerk::client::ClientResult<int> print_messages(Client& client, const SubOptions& options) {
  const stellwerk::client::OutputOptions output{options.format, options.verbose,
                                                !options.no_newline};
  const TimePoint deadline = deadline_after(options.timeout);
  int printed = 0;
  while (!stop_requested && (options.count == 0 || printed < options.count)) {
    const TimePoint now = Clock::now();
    if (now >= deadline) return kExitTimedOut;
    auto message = client.receive(std::min(deadline, now + kStopCheckInterval));
    if (!message) return stellwerk::fail(message.error());
    if (!message.value() || (options.no_stale && message.value()->retain)) continue;
    print_message(*message.value(), output);
    ++printed;
  }
  return 0;
}

int run_session(Client& client, const SubOptions& options, const ToolSetup& setup,
                const ToolOptions& common) {
  const mqtt::Version version = setup.connect.connect.version;
  if (!options.topics.empty()) {
    if (auto subscribed = subscribe(client, options, setup, common.quiet); !subscribed) {
      (void)client.disconnect();
      return stellwerk::client::report_failure(common, subscribed.error(), version);
    }
  }
  if (!options.unsubscribe_topics.empty()) {
    if (auto unsubscribed = unsubscribe(client, options, setup); !unsubscribed) {
      return stellwerk::client::report_failure(common, unsubscribed.error(), version);
    }
  }
  auto result = options.exit_after_subscribe ? 0 : print_messages(client, options);
  if (!result) return stellwerk::client::report_failure(common, result.error(), version);
  if (result.value() == kExitTimedOut && !common.quiet) std::fputs("Timed out\n", stderr);
  if (auto closed = client.disconnect(mqtt::Disconnect{{}, setup.properties.disconnect});
      !closed && result.value() == 0) {
    return stellwerk::client::report_failure(common, closed.error(), version);
  }
  return result.value();
}

}  // namespace

int run_sub_command(int argc, char** argv) {
  ToolOptions common;
  SubOptions sub;
  CLI::App app{"Subscribe to topics on an MQTT broker and print the messages.", "stellwerk sub"};
  stellwerk::client::add_common_options(app, common);
  add_sub_options(app, sub);
  if (auto exit = stellwerk::client::parse_command_line(app, argc, argv, common, "sub")) {
    return *exit;
  }
  auto setup = stellwerk::client::make_tool_setup(common, "sub");
  if (!setup) return stellwerk::client::report_usage_error(common, setup.error().message, "sub");
  if (auto checked = check_sub_options(sub); !checked) {
    return stellwerk::client::report_usage_error(common, checked.error().message, "sub");
  }
  install_stop_handlers();
  Client client;
  if (common.debug) client.set_observer(stellwerk::client::debug_observer(client));
  if (auto connack = client.connect(setup->connect); !connack) {
    return stellwerk::client::report_failure(common, connack.error(),
                                             setup->connect.connect.version);
  }
  return run_session(client, sub, setup.value(), common);
}

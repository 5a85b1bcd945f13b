// `stellwerk bench`: command-line front of the load generator in src/bench.
// Parses the flags into BenchOptions, runs, and prints the summary as text
// (stdout) and, with --json, as JSON (a file, or stdout with "-", the text
// then going to stderr).
#include "bench/bench.h"

#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <fstream>
#include <string>

#include "commands_bench.h"

namespace {

namespace bench = stellwerk::bench;
namespace mqtt = stellwerk::mqtt;

constexpr int kExitCheckFailed = 1;
constexpr int kExitUsage = 2;

struct CommandLine {
  std::string scenario = "pairs";
  std::string version = "311";
  int qos = 0;
  double duration = 10, warmup = 2, connect_timeout = 60, drain_timeout = 10;
  std::string source_addresses;
  std::string count_syscalls = "off";
  std::string json_path;
  bool quiet = false;
};

std::string scenario_help() {
  std::string text = "fan-in | fan-out | pairs | slow | connections | latency (default pairs). --clients is:";
  for (const char* name : {"fan-in", "fan-out", "pairs", "slow", "connections", "latency"}) {
    text += fmt::format("\n  {:<12} {}", name, bench::scenario_size_meaning(*bench::parse_scenario(name)));
  }
  return text;
}

void add_options(CLI::App& app, CommandLine& line, bench::BenchOptions& options) {
  app.add_option("scenario", line.scenario, scenario_help());
  app.add_option("-h,--host", options.host, "broker host (default 127.0.0.1)");
  app.add_option("-p,--port", options.port, "broker port (default 1883)");
  app.add_option("-n,--clients", options.clients, "the scenario's size (see above; 0 = its default)");
  app.add_option("-q,--qos", line.qos, "QoS of publications and subscriptions: 0, 1 or 2")
      ->check(CLI::Range(0, 2));
  app.add_option("-V,--protocol-version", line.version, "MQTT version: 311 (or mqttv311) or 5 (or mqttv5)");
  app.add_option("-s,--payload-size", options.payload_size, "payload bytes (at least 24; default 64)");
  app.add_option("-r,--rate", options.rate, "messages/s per publisher; 0 = as fast as the window allows");
  app.add_option("--window", options.window,
                 "messages per publisher not yet delivered everywhere (default 100)");
  app.add_option("-d,--duration", line.duration, "seconds measured (default 10)");
  app.add_option("-w,--warmup", line.warmup, "seconds of traffic before measuring (default 2)");
  app.add_option("--connect-timeout", line.connect_timeout, "seconds allowed to set up every connection");
  app.add_option("--drain-timeout", line.drain_timeout, "seconds allowed for the last deliveries");
  app.add_option("--connect-concurrency", options.connect_concurrency, "connections set up at once");
  app.add_option("--source-addresses", line.source_addresses,
                 "comma-separated local addresses to connect from, in turn (about 28,000 connections each)");
  app.add_flag("--subscribe", options.subscribe_idle,
               "connections: each client subscribes to a topic of its own");
  app.add_option("-k,--keepalive", options.keep_alive, "keep-alive seconds (default 60)");
  app.add_option("--session-expiry", options.session_expiry,
                 "persistent sessions: clean start off and this Session Expiry Interval in seconds "
                 "(MQTT 5; with 3.1.1 any value > 0 means clean session off); default 0 = clean");
  app.add_option("--cafile", options.tls_cafile, "TLS: verify the broker against this CA (PEM)");
  app.add_flag("--insecure", options.tls_insecure, "TLS without verifying the broker");
  app.add_option("--tls-version", options.tls_version, "TLS: 1.2 or 1.3 only (default 1.2 or later)");
  app.add_option("--topic-prefix", options.topic_prefix, "topic prefix (default stellwerk-bench/<pid>)");
  app.add_option("--id-prefix", options.client_id_prefix, "client id prefix (default bench-<pid>-)");
  app.add_option("--broker-pid", options.broker_pid,
                 "broker process: report its CPU time, memory, system calls");
  app.add_option("--count-syscalls", line.count_syscalls, "off | auto | perf | strace (needs --broker-pid)");
  app.add_option("--json", line.json_path, "also write the summary as JSON to this file ('-' = stdout)");
  app.add_flag("--quiet", line.quiet, "no progress line");
}

std::vector<std::string> split_commas(const std::string& text) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (start <= text.size() && !text.empty()) {
    const size_t end = std::min(text.find(',', start), text.size());
    if (end > start) parts.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return parts;
}

stellwerk::Duration seconds_of(double value) {
  return std::chrono::duration_cast<stellwerk::Duration>(std::chrono::duration<double>(value));
}

// Fills what the flags did not map directly; nullopt, or an error message.
std::optional<std::string> apply(const CommandLine& line, bench::BenchOptions& options) {
  const auto scenario = bench::parse_scenario(line.scenario);
  if (!scenario) return fmt::format("unknown scenario '{}'", line.scenario);
  options.scenario = *scenario;
  if (line.version == "5" || line.version == "mqttv5") {
    options.version = mqtt::Version::v5;
  } else if (line.version == "311" || line.version == "mqttv311") {
    options.version = mqtt::Version::v311;
  } else {
    return fmt::format("unsupported protocol version '{}' (311 or 5)", line.version);
  }
  const auto counting = bench::parse_syscall_counting(line.count_syscalls);
  if (!counting)
    return fmt::format("--count-syscalls: '{}' is not off, auto, perf or strace", line.count_syscalls);
  options.count_syscalls = *counting;
  options.qos = static_cast<mqtt::QoS>(line.qos);
  options.duration = seconds_of(line.duration);
  options.warmup = seconds_of(line.warmup);
  options.connect_timeout = seconds_of(line.connect_timeout);
  options.drain_timeout = seconds_of(line.drain_timeout);
  options.source_addresses = split_commas(line.source_addresses);
  options.progress = !line.quiet;
  return std::nullopt;
}

bool write_json(const std::string& path, const std::string& json) {
  if (path == "-") {
    std::fputs((json + "\n").c_str(), stdout);
    return true;
  }
  std::ofstream out(path);
  out << json << "\n";
  return static_cast<bool>(out);
}

}  // namespace

int run_bench_command(int argc, char** argv) {
  CLI::App app("Load generator for MQTT brokers: connects many clients, publishes, checks every delivery.",
               "stellwerk bench");
  app.set_help_flag("--help", "print this help and exit");
  CommandLine line;
  bench::BenchOptions options;
  add_options(app, line, options);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    return app.exit(error) == 0 ? 0 : kExitUsage;
  }
  if (auto problem = apply(line, options)) {
    std::fprintf(stderr, "stellwerk bench: %s\n", problem->c_str());
    return kExitUsage;
  }
  auto summary = bench::run_benchmark(options);
  if (!summary) {
    std::fprintf(stderr, "stellwerk bench: %s\n", summary.error().c_str());
    return kExitUsage;
  }
  std::fputs(bench::format_summary(*summary).c_str(), line.json_path == "-" ? stderr : stdout);
  if (!line.json_path.empty() && !write_json(line.json_path, bench::summary_json(*summary))) {
    std::fprintf(stderr, "stellwerk bench: cannot write %s\n", line.json_path.c_str());
    return kExitUsage;
  }
  return summary->passed() ? 0 : kExitCheckFailed;
}

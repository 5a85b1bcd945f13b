// The load generator of `stellwerk bench` with persistent sessions, for
// bench/persistence until `stellwerk bench` has a --session-expiry flag of its
// own (apps/bench.cpp). Only the flags bench/persistence uses:
//   persistence_driver --port P [--clients N] [--qos Q] [--protocol-version 311|5]
//       [--session-expiry S] [--duration D] [--warmup W] [--window M]
//       [--broker-pid PID] [--json FILE]
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <cstdio>
#include <fstream>

#include "bench/bench.h"

namespace bench = stellwerk::bench;

namespace {

stellwerk::Duration seconds_of(double value) {
  return std::chrono::duration_cast<stellwerk::Duration>(std::chrono::duration<double>(value));
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app("stellwerk bench pairs/fan-in with persistent sessions", "persistence_driver");
  bench::BenchOptions options;
  std::string scenario = "pairs", version = "311", json_path;
  int qos = 1;
  double duration = 10, warmup = 2;
  app.add_option("scenario", scenario, "pairs | fan-in | fan-out");
  app.add_option("-p,--port", options.port, "broker port")->required();
  app.add_option("-n,--clients", options.clients, "the scenario's size");
  app.add_option("-q,--qos", qos, "QoS 0, 1 or 2")->check(CLI::Range(0, 2));
  app.add_option("-V,--protocol-version", version, "311 or 5");
  app.add_option("--session-expiry", options.session_expiry, "seconds; 0 = clean sessions");
  app.add_option("-d,--duration", duration, "seconds measured");
  app.add_option("-w,--warmup", warmup, "seconds before measuring");
  app.add_option("--window", options.window, "messages per publisher not yet delivered");
  app.add_option("--broker-pid", options.broker_pid, "broker process, for its CPU time and memory");
  app.add_option("--json", json_path, "also write the summary as JSON here");
  CLI11_PARSE(app, argc, argv);

  const auto parsed = bench::parse_scenario(scenario);
  if (!parsed) {
    std::fprintf(stderr, "unknown scenario %s\n", scenario.c_str());
    return 2;
  }
  options.scenario = *parsed;
  options.version = version == "5" ? stellwerk::mqtt::Version::v5 : stellwerk::mqtt::Version::v311;
  options.qos = static_cast<stellwerk::mqtt::QoS>(qos);
  options.duration = seconds_of(duration);
  options.warmup = seconds_of(warmup);
  options.progress = false;
  auto summary = bench::run_benchmark(options);
  if (!summary) {
    std::fprintf(stderr, "persistence_driver: %s\n", summary.error().c_str());
    return 2;
  }
  std::fputs(bench::format_summary(*summary).c_str(), stdout);
  if (!json_path.empty()) std::ofstream(json_path) << bench::summary_json(*summary) << "\n";
  return summary->passed() ? 0 : 1;
}

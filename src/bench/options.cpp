// Scenario names, option checks and the plan of each scenario. The default
// sizes are the standard scenarios of docs/performance.md.
#include "bench/options.h"

#include <arpa/inet.h>
#include <fmt/format.h>

#include <array>

#include "bench/stamp.h"

namespace stellwerk::bench {
namespace {

struct ScenarioInfo {
  Scenario scenario;
  const char* name;
  uint32_t default_size;
  double default_rate;  // per publisher; 0 = unlimited
  const char* size_meaning;
};

constexpr std::array<ScenarioInfo, 6> kScenarios{{
    {Scenario::fan_in, "fan-in", 8, 0, "publishers, all to one wildcard subscriber"},
    {Scenario::fan_out, "fan-out", 100, 0, "subscribers of the one publisher's topic"},
    {Scenario::pairs, "pairs", 100, 0, "publisher/subscriber pairs, each on its own topic"},
    {Scenario::slow, "slow", 5000, 4, "publisher/subscriber pairs at a low rate each"},
    {Scenario::connections, "connections", 1000, 0, "idle connections opened and held"},
    {Scenario::latency, "latency", 10, 1000, "publisher/subscriber pairs at a fixed rate each"},
}};

const ScenarioInfo& info(Scenario scenario) {
  for (const ScenarioInfo& entry : kScenarios) {
    if (entry.scenario == scenario) return entry;
  }
  return kScenarios[0];
}

bool is_ip_address(const std::string& text) {
  in6_addr buffer{};
  return inet_pton(AF_INET, text.c_str(), &buffer) == 1 || inet_pton(AF_INET6, text.c_str(), &buffer) == 1;
}

Status<std::string> check_sizes(const BenchOptions& options) {
  if (options.payload_size < kStampSize || options.payload_size > 256 * 1024 * 1024) {
    return fail(fmt::format("--payload-size must be between {} and 268435456 bytes", kStampSize));
  }
  if (options.window < 1 || options.window > 32768) return fail(std::string("--window must be 1..32768"));
  if (options.clients > 1'000'000) return fail(std::string("--clients must be at most 1000000"));
  if (options.connect_concurrency < 1) return fail(std::string("--connect-concurrency must be at least 1"));
  if (options.rate > 1e7) return fail(std::string("--rate must be at most 10000000 per publisher"));
  return {};
}

Status<std::string> check_times(const BenchOptions& options) {
  if (options.duration <= Duration::zero()) return fail(std::string("--duration must be positive"));
  if (options.warmup < Duration::zero()) return fail(std::string("--warmup must not be negative"));
  if (options.keep_alive < 5) return fail(std::string("--keepalive must be at least 5 seconds"));
  return {};
}

}  // namespace

std::optional<Scenario> parse_scenario(std::string_view name) {
  for (const ScenarioInfo& entry : kScenarios) {
    if (name == entry.name) return entry.scenario;
  }
  return std::nullopt;
}

const char* scenario_name(Scenario scenario) { return info(scenario).name; }

const char* scenario_size_meaning(Scenario scenario) { return info(scenario).size_meaning; }

std::optional<SyscallCounting> parse_syscall_counting(std::string_view name) {
  if (name == "off") return SyscallCounting::off;
  if (name == "auto") return SyscallCounting::automatic;
  if (name == "perf") return SyscallCounting::perf;
  if (name == "strace") return SyscallCounting::strace;
  return std::nullopt;
}

Status<std::string> check_options(const BenchOptions& options) {
  if (auto sizes = check_sizes(options); !sizes) return sizes;
  if (auto times = check_times(options); !times) return times;
  for (const std::string& address : options.source_addresses) {
    if (!is_ip_address(address))
      return fail(fmt::format("--source-addresses: '{}' is not an IP address", address));
  }
  if (options.count_syscalls != SyscallCounting::off && options.broker_pid <= 0) {
    return fail(std::string("--count-syscalls needs --broker-pid"));
  }
  if (!options.tls_cafile.empty() && options.tls_insecure) {
    return fail(std::string("--cafile and --insecure exclude each other"));
  }
  if (!options.tls_version.empty() && options.tls_version != "1.2" && options.tls_version != "1.3") {
    return fail(std::string("--tls-version must be 1.2 or 1.3"));
  }
  if (!options.tls_version.empty() && !options.tls()) {
    return fail(std::string("--tls-version needs --cafile or --insecure"));
  }
  if (options.subscribe_idle && options.scenario != Scenario::connections) {
    return fail(std::string("--subscribe applies to the connections scenario only"));
  }
  return {};
}

Plan make_plan(const BenchOptions& options) {
  const ScenarioInfo& scenario = info(options.scenario);
  const uint32_t size = options.clients > 0 ? options.clients : scenario.default_size;
  Plan plan;
  plan.scenario = options.scenario;
  plan.prefix = options.topic_prefix;
  plan.rate = options.rate >= 0 ? options.rate : scenario.default_rate;
  switch (options.scenario) {
    case Scenario::fan_in:
      plan.publishers = size;
      plan.subscribers = 1;
      break;
    case Scenario::fan_out:
      plan.publishers = 1;
      plan.subscribers = size;
      break;
    case Scenario::pairs:
    case Scenario::slow:
    case Scenario::latency:
      plan.publishers = size;
      plan.subscribers = size;
      break;
    case Scenario::connections:
      plan.idle = size;
      break;
  }
  return plan;
}

std::string Plan::publisher_topic(uint32_t publisher) const {
  switch (scenario) {
    case Scenario::fan_in:
      return fmt::format("{}/fan-in/{}", prefix, publisher);
    case Scenario::fan_out:
      return fmt::format("{}/fan-out", prefix);
    default:
      return fmt::format("{}/pair/{}", prefix, publisher);
  }
}

std::string Plan::subscriber_filter(uint32_t subscriber) const {
  switch (scenario) {
    case Scenario::fan_in:
      return fmt::format("{}/fan-in/+", prefix);
    case Scenario::fan_out:
      return fmt::format("{}/fan-out", prefix);
    default:
      return fmt::format("{}/pair/{}", prefix, subscriber);
  }
}

std::string Plan::idle_filter(uint32_t client) const { return fmt::format("{}/idle/{}", prefix, client); }

Plan::Range Plan::sources_of(uint32_t subscriber) const {
  switch (scenario) {
    case Scenario::fan_in:
      return Range{0, publishers};
    case Scenario::fan_out:
      return Range{0, 1};
    case Scenario::connections:
      return Range{0, 0};
    default:
      return Range{subscriber, 1};
  }
}

uint32_t Plan::receivers_per_message() const {
  switch (scenario) {
    case Scenario::fan_out:
      return subscribers;
    case Scenario::connections:
      return 0;
    default:
      return 1;
  }
}

}  // namespace stellwerk::bench

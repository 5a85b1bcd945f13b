// What one `stellwerk bench` run does, and the plan derived from it.
//
// BenchOptions is what the user asked for (scenario, size, MQTT settings,
// phase lengths). Plan is what that means in clients and topics: how many
// publishers and subscribers there are, which topic each publishes to, which
// filter each subscribes to, and which publishers' messages each subscriber
// must see. Every scenario is arranged so that a subscriber receives from a
// contiguous range of publishers; the delivery checker relies on that to keep
// one dense array of streams per subscriber. Pure data and pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/clock.h"
#include "base/result.h"
#include "mqtt/packet.h"

namespace stellwerk::bench {

enum class Scenario { fan_in, fan_out, pairs, slow, connections, latency };

// Command-line names: fan-in, fan-out, pairs, slow, connections, latency.
std::optional<Scenario> parse_scenario(std::string_view name);
const char* scenario_name(Scenario scenario);

enum class SyscallCounting { off, automatic, perf, strace };
std::optional<SyscallCounting> parse_syscall_counting(std::string_view name);

struct BenchOptions {
  Scenario scenario = Scenario::pairs;
  std::string host = "127.0.0.1";
  uint16_t port = 1883;
  // Local addresses to bind before connecting, used in turn; empty lets the
  // kernel choose. One address gives about 28,000 connections to one port.
  std::vector<std::string> source_addresses;
  mqtt::Version version = mqtt::Version::v311;
  mqtt::QoS qos = mqtt::QoS::at_most_once;
  uint32_t clients = 0;      // the scenario's size (see scenario_size); 0 = its default
  size_t payload_size = 64;  // bytes; at least kStampSize
  double rate = -1;          // messages/s per publisher; 0 = unlimited; < 0 = the scenario's default
  uint32_t window = 100;     // per publisher: messages sent but not yet delivered to every receiver
  Duration warmup = seconds(2);
  Duration duration = seconds(10);
  Duration connect_timeout = seconds(60);
  Duration drain_timeout = seconds(10);
  uint32_t connect_concurrency = 100;  // connections set up at once (mosquitto listens with a backlog of 100)
  bool subscribe_idle = false;         // connections: each client subscribes to a topic of its own
  uint16_t keep_alive = 60;
  // Nonzero: every client keeps a persistent session (clean start / clean
  // session off; v5 Session Expiry Interval of this many seconds), so a
  // broker with persistence logs what it queues and sends at QoS 1 and 2.
  uint32_t session_expiry = 0;
  // TLS is on when tls_cafile is set (the broker is verified against it) or
  // tls_insecure is (no verification); tls_version "1.2" / "1.3" pins it.
  std::string tls_cafile;
  bool tls_insecure = false;
  std::string tls_version;
  bool tls() const { return !tls_cafile.empty() || tls_insecure; }
  std::string topic_prefix;      // empty: "stellwerk-bench/<pid>"
  std::string client_id_prefix;  // empty: "bench-<pid>-"
  int broker_pid = 0;            // for broker CPU, RSS and system calls; 0 = not measured
  SyscallCounting count_syscalls = SyscallCounting::off;
  bool progress = true;
};

// Checks ranges and combinations; the error names the option.
[[nodiscard]] Status<std::string> check_options(const BenchOptions& options);

// What --clients means for each scenario, for the help text and reports.
const char* scenario_size_meaning(Scenario scenario);

class Plan {
 public:
  struct Range {
    uint32_t first = 0;
    uint32_t count = 0;
  };

  Scenario scenario = Scenario::pairs;
  uint32_t publishers = 0;
  uint32_t subscribers = 0;
  uint32_t idle = 0;   // connections scenario: clients that only connect (and maybe subscribe)
  double rate = 0;     // per publisher; 0 = as fast as the window allows
  std::string prefix;  // topic prefix

  std::string publisher_topic(uint32_t publisher) const;
  std::string subscriber_filter(uint32_t subscriber) const;
  std::string idle_filter(uint32_t client) const;
  // The publishers whose every message subscriber `subscriber` receives.
  Range sources_of(uint32_t subscriber) const;
  // How many subscribers receive each message of any publisher.
  uint32_t receivers_per_message() const;
  uint32_t total_clients() const { return publishers + subscribers + idle; }
};

Plan make_plan(const BenchOptions& options);

}  // namespace stellwerk::bench

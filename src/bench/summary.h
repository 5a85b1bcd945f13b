// The outcome of a benchmark run: what ran, how fast, what the broker spent
// and whether every message arrived exactly once and in order. Printed as a
// table for people and as JSON for bench/compare.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace stellwerk::bench {

struct LatencyFigures {  // microseconds, measurement window only
  uint64_t count = 0;
  double mean = 0, p50 = 0, p90 = 0, p99 = 0, p999 = 0, max = 0;
};

struct BrokerFigures {                       // empty without --broker-pid
  std::optional<double> cpu_seconds;         // user + system during the measurement
  std::optional<double> setup_cpu_seconds;   // user + system while the connections were set up
  std::optional<double> wait_seconds;        // runnable but waiting for a CPU, during the measurement
  std::optional<double> setup_wait_seconds;  // runnable but waiting for a CPU, while connecting
  std::optional<uint64_t> rss_before_kib;    // before the first connection
  std::optional<uint64_t> rss_kib;           // at the end of the measurement
  std::optional<double> syscalls_per_second;
  std::optional<double> syscalls_per_delivery;
  std::string syscall_source;  // "perf", "strace" or why there is no figure
};

struct DeliveryCheck {     // the whole run, warm-up and drain included
  uint64_t published = 0;  // messages the publishers sent
  uint64_t expected = 0;   // deliveries those messages owe the subscribers
  uint64_t delivered = 0;  // distinct deliveries that arrived
  uint64_t lost = 0;
  uint64_t duplicates = 0;
  uint64_t out_of_order = 0;
  uint64_t foreign = 0;          // payloads without our stamp, or from an unknown publisher
  uint64_t protocol_errors = 0;  // refused or unexpected acknowledgements, acks out of order
  bool drained = true;           // everything arrived before the drain timeout
};

struct Summary {
  std::string scenario;
  std::string mqtt_version;  // "3.1.1" or "5"
  int qos = 0;
  uint32_t publishers = 0, subscribers = 0, idle = 0;
  bool idle_subscribed = false;  // connections scenario: one subscription each
  size_t payload_size = 0;
  double rate_per_publisher = 0;  // 0 = unlimited
  uint32_t window = 0;

  uint32_t connections_ok = 0;
  uint32_t connections_failed = 0;   // never got ready
  uint32_t connections_dropped = 0;  // closed by the broker or an error after getting ready
  std::string first_failure;
  double connect_seconds = 0;
  double connections_per_second = 0;

  double measured_seconds = 0;
  uint64_t measured_published = 0;
  uint64_t measured_deliveries = 0;
  double published_per_second = 0;
  double deliveries_per_second = 0;
  LatencyFigures latency;

  DeliveryCheck check;
  BrokerFigures broker;
  std::optional<double> deliveries_per_broker_cpu_second;
  std::optional<double> broker_rss_per_connection_bytes;  // connections scenario
  double generator_cpu_seconds = 0;                       // over the measurement
  double generator_setup_cpu_seconds = 0;                 // while the connections were set up
  double generator_wait_seconds = 0;        // runnable but waiting for a CPU, during the measurement
  double generator_setup_wait_seconds = 0;  // runnable but waiting for a CPU, while connecting
  std::optional<double> connections_per_broker_cpu_second;  // set-up rate per broker CPU-second
  bool interrupted = false;

  // No loss, duplicate, reordering, foreign message, protocol error or
  // failed connection, and nothing left undelivered.
  bool passed() const;
};

std::string format_summary(const Summary& summary);  // several lines of text
std::string summary_json(const Summary& summary);    // one JSON object

}  // namespace stellwerk::bench

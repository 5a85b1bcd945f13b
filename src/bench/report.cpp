// The summary as text for people and as JSON for scripts. Figures that could
// not be measured are left out of the text and are null in the JSON.
#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "bench/summary.h"

namespace stellwerk::bench {
namespace {

using nlohmann::json;

// 1234567 -> "1,234,567"
std::string grouped(double value) {
  const std::string digits = fmt::format("{:.0f}", value);
  const size_t sign = !digits.empty() && digits[0] == '-' ? 1 : 0;
  std::string out = digits.substr(0, sign);
  for (size_t i = sign; i < digits.size(); ++i) {
    if (i > sign && (digits.size() - i) % 3 == 0) out.push_back(',');
    out.push_back(digits[i]);
  }
  return out;
}

std::string milliseconds(double microseconds) { return fmt::format("{:.3f} ms", microseconds / 1000.0); }

std::string describe_run(const Summary& s) {
  if (s.idle > 0) {
    return fmt::format("{}: {} idle connections{}, MQTT {}", s.scenario, grouped(s.idle),
                       s.idle_subscribed ? fmt::format(" with one QoS {} subscription each", s.qos) : "",
                       s.mqtt_version);
  }
  const std::string rate = s.rate_per_publisher > 0
                               ? fmt::format("{} msg/s per publisher", grouped(s.rate_per_publisher))
                               : "unlimited rate";
  return fmt::format("{}: {} publishers -> {} subscribers, MQTT {} QoS {}, {}-byte payload, {} (window {})",
                     s.scenario, s.publishers, s.subscribers, s.mqtt_version, s.qos, s.payload_size, rate,
                     s.window);
}

std::string describe_broker(const Summary& s) {
  const BrokerFigures& b = s.broker;
  std::string line;
  if (b.cpu_seconds) line += fmt::format("CPU {:.2f} s", *b.cpu_seconds);
  if (b.wait_seconds) line += fmt::format(" (waited for a CPU {:.2f} s)", *b.wait_seconds);
  if (s.deliveries_per_broker_cpu_second) {
    line += fmt::format(" ({} deliveries per CPU-second)", grouped(*s.deliveries_per_broker_cpu_second));
  }
  if (b.rss_kib) line += fmt::format(", RSS {} KiB", grouped(static_cast<double>(*b.rss_kib)));
  if (b.rss_before_kib)
    line += fmt::format(" (before: {} KiB)", grouped(static_cast<double>(*b.rss_before_kib)));
  if (s.broker_rss_per_connection_bytes) {
    line += fmt::format(", {} bytes per connection", grouped(*s.broker_rss_per_connection_bytes));
  }
  if (b.syscalls_per_delivery)
    line += fmt::format(", {:.2f} system calls per delivery", *b.syscalls_per_delivery);
  line += fmt::format(" [system calls: {}]", b.syscall_source);
  return line;
}

std::string describe_check(const Summary& s) {
  const DeliveryCheck& c = s.check;
  std::string line =
      fmt::format("{}: {} of {} deliveries, {} lost, {} duplicates, {} out of order",
                  s.passed() ? "PASSED" : "FAILED", grouped(static_cast<double>(c.delivered)),
                  grouped(static_cast<double>(c.expected)), c.lost, c.duplicates, c.out_of_order);
  if (c.foreign > 0) line += fmt::format(", {} foreign", c.foreign);
  if (c.protocol_errors > 0) line += fmt::format(", {} protocol errors", c.protocol_errors);
  if (!c.drained) line += ", not drained in time";
  return line;
}

template <typename T>
json optional_json(const std::optional<T>& value) {
  return value ? json(*value) : json(nullptr);
}

}  // namespace

bool Summary::passed() const {
  return check.lost == 0 && check.duplicates == 0 && check.out_of_order == 0 && check.foreign == 0 &&
         check.protocol_errors == 0 && check.drained && connections_failed == 0 && connections_dropped == 0;
}

std::string format_summary(const Summary& s) {
  std::string text = "stellwerk bench " + describe_run(s) + "\n";
  text += fmt::format("  connections  {} ready, {} failed, {} dropped; set up in {:.2f} s ({}/s)",
                      grouped(s.connections_ok), s.connections_failed, s.connections_dropped,
                      s.connect_seconds, grouped(s.connections_per_second));
  if (s.broker.setup_cpu_seconds) text += fmt::format(", broker CPU {:.2f} s", *s.broker.setup_cpu_seconds);
  if (s.connections_per_broker_cpu_second) {
    text += fmt::format(" ({}/CPU-s)", grouped(*s.connections_per_broker_cpu_second));
  }
  text += fmt::format(", generator CPU {:.2f} s", s.generator_setup_cpu_seconds);
  text += "\n";
  // A set-up rate far below what both CPU figures allow means one side
  // waited for its core (other work on the machine), not that it was slow.
  if (s.broker.setup_wait_seconds || s.generator_setup_wait_seconds > 0) {
    text += fmt::format("               waited for a CPU while connecting: broker {}, generator {:.2f} s\n",
                        s.broker.setup_wait_seconds ? fmt::format("{:.2f} s", *s.broker.setup_wait_seconds)
                                                    : std::string("n/a"),
                        s.generator_setup_wait_seconds);
  }
  if (!s.first_failure.empty()) text += fmt::format("               first failure: {}\n", s.first_failure);
  if (s.idle == 0) {
    text += fmt::format("  measured     {:.2f} s: {} deliveries/s, {} published/s\n", s.measured_seconds,
                        grouped(s.deliveries_per_second), grouped(s.published_per_second));
    const LatencyFigures& l = s.latency;
    text += fmt::format("  latency      p50 {}  p90 {}  p99 {}  p99.9 {}  max {}  ({} samples)\n",
                        milliseconds(l.p50), milliseconds(l.p90), milliseconds(l.p99), milliseconds(l.p999),
                        milliseconds(l.max), grouped(static_cast<double>(l.count)));
  } else {
    text += fmt::format("  held         {:.2f} s\n", s.measured_seconds);
  }
  if (s.broker.cpu_seconds || s.broker.rss_kib) text += "  broker       " + describe_broker(s) + "\n";
  text += fmt::format("  generator    CPU {:.2f} s, waited for a CPU {:.2f} s over the measurement\n",
                      s.generator_cpu_seconds, s.generator_wait_seconds);
  if (s.idle == 0) text += "  check        " + describe_check(s) + "\n";
  if (s.interrupted) text += "  (interrupted)\n";
  return text;
}

std::string summary_json(const Summary& s) {
  json out;
  out["scenario"] = s.scenario;
  out["mqtt_version"] = s.mqtt_version;
  out["qos"] = s.qos;
  out["publishers"] = s.publishers;
  out["subscribers"] = s.subscribers;
  out["idle_connections"] = s.idle;
  out["idle_subscribed"] = s.idle_subscribed;
  out["payload_bytes"] = s.payload_size;
  out["rate_per_publisher"] = s.rate_per_publisher;
  out["window"] = s.window;
  out["connections"] = {{"ready", s.connections_ok},          {"failed", s.connections_failed},
                        {"dropped", s.connections_dropped},   {"first_failure", s.first_failure},
                        {"setup_seconds", s.connect_seconds}, {"per_second", s.connections_per_second}};
  out["measured"] = {{"seconds", s.measured_seconds},
                     {"published", s.measured_published},
                     {"deliveries", s.measured_deliveries},
                     {"published_per_second", s.published_per_second},
                     {"deliveries_per_second", s.deliveries_per_second}};
  const LatencyFigures& l = s.latency;
  out["latency_us"] = {{"count", l.count}, {"mean", l.mean}, {"p50", l.p50}, {"p90", l.p90},
                       {"p99", l.p99},     {"p999", l.p999}, {"max", l.max}};
  const DeliveryCheck& c = s.check;
  out["check"] = {{"published", c.published},   {"expected", c.expected},
                  {"delivered", c.delivered},   {"lost", c.lost},
                  {"duplicates", c.duplicates}, {"out_of_order", c.out_of_order},
                  {"foreign", c.foreign},       {"protocol_errors", c.protocol_errors},
                  {"drained", c.drained}};
  const BrokerFigures& b = s.broker;
  out["broker"] = {{"cpu_seconds", optional_json(b.cpu_seconds)},
                   {"setup_cpu_seconds", optional_json(b.setup_cpu_seconds)},
                   {"wait_seconds", optional_json(b.wait_seconds)},
                   {"setup_wait_seconds", optional_json(b.setup_wait_seconds)},
                   {"connections_per_cpu_second", optional_json(s.connections_per_broker_cpu_second)},
                   {"deliveries_per_cpu_second", optional_json(s.deliveries_per_broker_cpu_second)},
                   {"rss_before_kib", optional_json(b.rss_before_kib)},
                   {"rss_kib", optional_json(b.rss_kib)},
                   {"rss_per_connection_bytes", optional_json(s.broker_rss_per_connection_bytes)},
                   {"syscalls_per_second", optional_json(b.syscalls_per_second)},
                   {"syscalls_per_delivery", optional_json(b.syscalls_per_delivery)},
                   {"syscall_source", b.syscall_source}};
  out["generator_cpu_seconds"] = s.generator_cpu_seconds;
  out["generator_setup_cpu_seconds"] = s.generator_setup_cpu_seconds;
  out["generator_wait_seconds"] = s.generator_wait_seconds;
  out["generator_setup_wait_seconds"] = s.generator_setup_wait_seconds;
  out["interrupted"] = s.interrupted;
  out["passed"] = s.passed();
  return out.dump(2);
}

}  // namespace stellwerk::bench

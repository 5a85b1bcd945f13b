// The live progress line and the summary of a finished run.
#include <fmt/format.h>
#include <unistd.h>

#include <cstdio>

#include "bench/runner.h"

namespace stellwerk::bench {
namespace {

double seconds_between(TimePoint from, TimePoint to) {
  return std::chrono::duration<double>(to - from).count();
}

double per_second(uint64_t count, double seconds) {
  return seconds > 0 ? static_cast<double>(count) / seconds : 0;
}

const char* phase_name(Phase phase) {
  switch (phase) {
    case Phase::connecting:
      return "connecting";
    case Phase::warmup:
      return "warm-up";
    case Phase::measuring:
      return "measuring";
    case Phase::draining:
      return "draining";
    case Phase::closing:
      return "closing";
    case Phase::done:
      return "done";
  }
  return "?";
}

double microseconds(uint64_t nanoseconds) { return static_cast<double>(nanoseconds) / 1000.0; }

LatencyFigures latency_figures(const LatencyHistogram& histogram) {
  LatencyFigures figures;
  figures.count = histogram.count();
  figures.mean = histogram.mean() / 1000.0;
  figures.p50 = microseconds(histogram.percentile(0.50));
  figures.p90 = microseconds(histogram.percentile(0.90));
  figures.p99 = microseconds(histogram.percentile(0.99));
  figures.p999 = microseconds(histogram.percentile(0.999));
  figures.max = microseconds(histogram.max());
  return figures;
}

std::optional<double> difference(const std::optional<double>& from, const std::optional<double>& to) {
  if (!from || !to) return std::nullopt;
  return *to - *from;
}

}  // namespace

void Runner::print_progress() {
  const Snapshot now = snapshot();
  const double elapsed = seconds_between(last_progress_.at, now.at);
  const uint64_t delivered = now.counters.delivered - last_progress_.counters.delivered;
  const uint64_t published = now.counters.published - last_progress_.counters.published;
  last_progress_ = now;
  if (!options_.progress) return;
  std::string line = fmt::format("[{:>10} {:6.1f} s] connections {}/{}", phase_name(phase_),
                                 seconds_between(started_, now_), links_ready_, links_.size());
  if (links_failed_ + links_dropped_ > 0) line += fmt::format(" ({} failed)", links_failed_ + links_dropped_);
  if (!publishers_.empty() && phase_ != Phase::connecting) {
    line += fmt::format(" | published {:.0f}/s delivered {:.0f}/s in flight {}",
                        per_second(published, elapsed), per_second(delivered, elapsed), in_flight());
  }
  if (measuring_ && latency_.count() > 0) {
    line += fmt::format(" | p50 {:.0f} us p99 {:.0f} us", microseconds(latency_.percentile(0.5)),
                        microseconds(latency_.percentile(0.99)));
  }
  const uint64_t trouble = counters_.duplicates + counters_.out_of_order + counters_.foreign;
  if (trouble > 0) line += fmt::format(" | {} duplicate/out-of-order/foreign", trouble);
  // On a terminal the line is rewritten in place; in a log each is kept.
  const bool terminal = ::isatty(STDERR_FILENO) != 0;
  std::fputs(terminal ? ("\r" + line + "\033[K").c_str() : (line + "\n").c_str(), stderr);
  std::fflush(stderr);
}

void Runner::fill_check(Summary& summary) const {
  DeliveryCheck& check = summary.check;
  check.published = counters_.published;
  for (const Subscriber& subscriber : subscribers_) {
    for (size_t k = 0; k < subscriber.streams.size(); ++k) {
      const uint64_t sent = publishers_[subscriber.first_source + k].sent;
      check.expected += sent;
      check.lost += subscriber.streams[k].lost(sent);
    }
  }
  check.delivered = counters_.delivered;
  check.duplicates = counters_.duplicates;
  check.out_of_order = counters_.out_of_order;
  check.foreign = counters_.foreign;
  check.protocol_errors = counters_.protocol_errors;
  check.drained = drained_;
}

Summary Runner::summarize() const {
  Summary summary;
  summary.scenario = scenario_name(plan_.scenario);
  summary.mqtt_version = options_.version == mqtt::Version::v5 ? "5" : "3.1.1";
  summary.qos = static_cast<int>(options_.qos);
  summary.publishers = plan_.publishers;
  summary.subscribers = plan_.subscribers;
  summary.idle = plan_.idle;
  summary.idle_subscribed = options_.subscribe_idle;
  summary.payload_size = options_.payload_size;
  summary.rate_per_publisher = plan_.rate;
  summary.window = options_.window;

  summary.connections_ok = links_ready_;
  summary.connections_failed = links_failed_;
  summary.connections_dropped = links_dropped_;
  summary.first_failure = first_failure_;
  summary.connect_seconds = seconds_between(started_, connects_done_);
  summary.connections_per_second = per_second(links_ready_, summary.connect_seconds);

  summary.measured_seconds = seconds_between(measure_start_.at, measure_end_.at);
  summary.measured_published = measure_end_.counters.published - measure_start_.counters.published;
  summary.measured_deliveries = measure_end_.counters.delivered - measure_start_.counters.delivered;
  summary.published_per_second = per_second(summary.measured_published, summary.measured_seconds);
  summary.deliveries_per_second = per_second(summary.measured_deliveries, summary.measured_seconds);
  summary.latency = latency_figures(latency_);
  fill_check(summary);

  BrokerFigures& broker = summary.broker;
  broker.cpu_seconds = difference(measure_start_.broker_cpu, measure_end_.broker_cpu);
  broker.setup_cpu_seconds = difference(setup_start_.broker_cpu, setup_end_.broker_cpu);
  broker.wait_seconds = difference(measure_start_.broker_wait, measure_end_.broker_wait);
  broker.setup_wait_seconds = difference(setup_start_.broker_wait, setup_end_.broker_wait);
  if (broker.setup_cpu_seconds && *broker.setup_cpu_seconds > 0) {
    summary.connections_per_broker_cpu_second = links_ready_ / *broker.setup_cpu_seconds;
  }
  broker.rss_before_kib = rss_before_;
  broker.rss_kib = rss_at_end_;
  broker.syscalls_per_second = syscalls_per_second_;
  if (syscalls_per_second_ && probe_delivery_rate_)
    broker.syscalls_per_delivery = *syscalls_per_second_ / *probe_delivery_rate_;
  broker.syscall_source = syscall_note_.empty() ? "not requested" : syscall_note_;
  if (broker.cpu_seconds && *broker.cpu_seconds > 0 && summary.measured_deliveries > 0) {
    summary.deliveries_per_broker_cpu_second =
        static_cast<double>(summary.measured_deliveries) / *broker.cpu_seconds;
  }
  if (plan_.scenario == Scenario::connections && rss_before_ && rss_at_end_ && links_ready_ > 0) {
    const double grown = static_cast<double>(*rss_at_end_) - static_cast<double>(*rss_before_);
    summary.broker_rss_per_connection_bytes = grown * 1024.0 / links_ready_;
  }
  summary.generator_cpu_seconds = difference(measure_start_.own_cpu, measure_end_.own_cpu).value_or(0);
  summary.generator_setup_cpu_seconds = difference(setup_start_.own_cpu, setup_end_.own_cpu).value_or(0);
  summary.generator_wait_seconds = difference(measure_start_.own_wait, measure_end_.own_wait).value_or(0);
  summary.generator_setup_wait_seconds = difference(setup_start_.own_wait, setup_end_.own_wait).value_or(0);
  summary.interrupted = interrupted_;
  return summary;
}

}  // namespace stellwerk::bench

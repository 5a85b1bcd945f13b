// The generator's set-up and its loop (see runner.h for the design); the
// phases are in runner_phases.cpp.
#include "bench/runner.h"

#include <fmt/format.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <bit>
#include <csignal>
#include <cstring>

#include "bench/bench.h"
#include "bench/proc_stats.h"

namespace stellwerk::bench {
namespace {

constexpr size_t kReadBufferSize = 256 * 1024;
constexpr int kMaxEvents = 1024;
constexpr auto kProgressInterval = seconds(1);
constexpr int kSpareDescriptors = 32;  // perf, /proc files, stdio

std::atomic<bool> stop_requested{false};

void request_stop(int) { stop_requested.store(true); }

// Restores SIGINT and SIGTERM when the run ends.
class StopSignals {
 public:
  StopSignals() {
    stop_requested.store(false);
    struct sigaction action {};
    action.sa_handler = request_stop;
    sigemptyset(&action.sa_mask);
    action.sa_flags = 0;  // no SA_RESTART: the wait returns and the loop looks
    sigaction(SIGINT, &action, &old_int_);
    sigaction(SIGTERM, &action, &old_term_);
  }
  ~StopSignals() {
    sigaction(SIGINT, &old_int_, nullptr);
    sigaction(SIGTERM, &old_term_, nullptr);
  }
  StopSignals(const StopSignals&) = delete;
  StopSignals& operator=(const StopSignals&) = delete;

 private:
  struct sigaction old_int_ {};
  struct sigaction old_term_ {};
};

uint64_t ring_size_for(uint32_t window) { return std::bit_ceil(uint64_t{window}); }

// Raises the soft descriptor limit as far as needed and allowed.
Status<std::string> ensure_descriptors(uint64_t needed) {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) return {};
  if (limit.rlim_cur >= needed) return {};
  limit.rlim_cur = std::min<rlim_t>(needed, limit.rlim_max);
  setrlimit(RLIMIT_NOFILE, &limit);
  if (limit.rlim_cur >= needed) return {};
  return fail(fmt::format("this run needs {} file descriptors but the limit is {} (ulimit -n)", needed,
                          limit.rlim_cur));
}

}  // namespace

Result<Summary, std::string> run_benchmark(const BenchOptions& options) {
  if (auto checked = check_options(options); !checked) return fail(checked.error());
  StopSignals signals;
  Runner runner(options);
  return runner.run();
}

Runner::Runner(BenchOptions options) : options_(std::move(options)) {
  const int pid = static_cast<int>(::getpid());
  if (options_.topic_prefix.empty()) options_.topic_prefix = fmt::format("stellwerk-bench/{}", pid);
  client_id_prefix_ =
      options_.client_id_prefix.empty() ? fmt::format("bench-{}-", pid) : options_.client_id_prefix;
  plan_ = make_plan(options_);
}

Runner::~Runner() {
  close_all();
  if (epoll_fd_ >= 0) ::close(epoll_fd_);
}

Status<std::string> Runner::set_up() {
  auto target = resolve_endpoint(options_.host, options_.port);
  if (!target) return fail(fmt::format("cannot resolve {}: {}", options_.host, target.error()));
  target_ = target.value();
  for (const std::string& address : options_.source_addresses) {
    auto source = local_endpoint(address);
    if (!source) return fail(source.error());
    sources_.push_back(source.value());
  }
  if (options_.tls()) {
    auto context = TlsClientContext::create(
        TlsSettings{options_.tls_cafile, options_.tls_insecure, options_.tls_version});
    if (!context) return fail(context.error());
    tls_ = std::move(context.value());
  }
  if (auto enough = ensure_descriptors(plan_.total_clients() + kSpareDescriptors); !enough) return enough;
  epoll_fd_ = ::epoll_create1(EPOLL_CLOEXEC);
  if (epoll_fd_ < 0) return fail(fmt::format("epoll_create1: {}", std::strerror(errno)));
  read_buffer_.resize(kReadBufferSize);
  puback_ = AckTemplate(mqtt::PacketType::puback, options_.version);
  pubrec_ = AckTemplate(mqtt::PacketType::pubrec, options_.version);
  pubrel_ = AckTemplate(mqtt::PacketType::pubrel, options_.version);
  pubcomp_ = AckTemplate(mqtt::PacketType::pubcomp, options_.version);
  pingreq_ = encode_packet(mqtt::Pingreq{}, options_.version);
  disconnect_ = encode_packet(mqtt::Disconnect{}, options_.version);
  ring_mask_ = ring_size_for(options_.window) - 1;
  if (plan_.rate > 0) {
    send_interval_ = std::chrono::duration_cast<Duration>(std::chrono::duration<double>(1.0 / plan_.rate));
  }
  create_links();
  return {};
}

// Subscribers first, so that they connect (and subscribe) before the
// publishers that feed them; publishers wait for everyone anyway.
void Runner::create_links() {
  links_.resize(plan_.total_clients());
  uint32_t next = 0;
  const auto add = [&](Role role, uint32_t index) {
    Link& link = links_[next];
    link.role = role;
    link.index = index;
    return next++;
  };
  subscribers_.resize(plan_.subscribers);
  for (uint32_t s = 0; s < plan_.subscribers; ++s) {
    Subscriber& subscriber = subscribers_[s];
    subscriber.link = add(Role::subscriber, s);
    const Plan::Range sources = plan_.sources_of(s);
    subscriber.first_source = sources.first;
    subscriber.streams.resize(sources.count);
  }
  const bool acknowledged = options_.qos != mqtt::QoS::at_most_once;
  publishers_.resize(plan_.publishers);
  for (uint32_t p = 0; p < plan_.publishers; ++p) {
    Publisher& publisher = publishers_[p];
    publisher.link = add(Role::publisher, p);
    publisher.message =
        PublishTemplate(plan_.publisher_topic(p), options_.qos, options_.payload_size, options_.version);
    publisher.pending.assign(ring_mask_ + 1, 0);
    publisher.awaiting_ack = IdQueue(acknowledged ? options_.window : 0);
    publisher.awaiting_complete = IdQueue(options_.qos == mqtt::QoS::exactly_once ? options_.window : 0);
  }
  for (uint32_t i = 0; i < plan_.idle; ++i) add(Role::idle, i);
}

Result<Summary, std::string> Runner::run() {
  if (auto ready = set_up(); !ready) return fail(ready.error());
  if (options_.broker_pid > 0) rss_before_ = process_rss_kib(options_.broker_pid);
  started_ = now_ = Clock::now();
  phase_deadline_ = started_ + options_.connect_timeout;
  next_progress_ = started_ + kProgressInterval;
  last_progress_ = setup_start_ = snapshot();
  start_connects();
  flush();
  while (phase_ != Phase::done) turn();
  if (options_.progress) std::fputs("\n", stderr);
  if (links_failed_ > 0 && plan_.scenario != Scenario::connections) {
    return fail(fmt::format("{} of {} connections failed; the first: {}", links_failed_, links_.size(),
                            first_failure_));
  }
  return summarize();
}

void Runner::turn() {
  timespec timeout{0, 0};
  if (ready_.empty()) {
    const TimePoint until = next_deadline().value_or(now_ + kProgressInterval);
    const auto wait = std::clamp<Duration>(until - Clock::now(), Duration::zero(), kProgressInterval);
    const auto nanos = std::chrono::duration_cast<std::chrono::nanoseconds>(wait).count();
    timeout = timespec{static_cast<time_t>(nanos / 1'000'000'000), static_cast<long>(nanos % 1'000'000'000)};
  }
  epoll_event events[kMaxEvents];
  const int count = ::epoll_pwait2(epoll_fd_, events, kMaxEvents, &timeout, nullptr);
  now_ = Clock::now();
  for (int i = 0; i < count; ++i) on_event(events[i].data.u32, events[i].events);
  if (stop_requested.load() && !interrupted_) {
    interrupted_ = true;
    if (options_.progress) std::fputs("\ninterrupted: finishing up\n", stderr);
  }
  start_connects();
  advance_phase();
  pump_publishers();
  if (now_ >= next_progress_) {
    keep_alive_sweep();
    print_progress();
    next_progress_ = std::max(next_progress_ + kProgressInterval, now_);
  }
  flush();
}

std::optional<TimePoint> Runner::next_deadline() const {
  TimePoint next = std::min(phase_deadline_, next_progress_);
  if (probe_start_at_ && !syscall_counter_) next = std::min(next, *probe_start_at_);
  if (!due_.empty()) next = std::min(next, due_.top().first);
  return next;
}

// Best effort: a DISCONNECT where the socket takes it, then close.
void Runner::close_all() {
  for (Link& link : links_) {
    if (link.fd < 0) continue;
    if (link.state == LinkState::ready && link.tls) {
      (void)tls_write(link.tls.get(), disconnect_.data(), disconnect_.size());
    } else if (link.state == LinkState::ready) {
      (void)!::send(link.fd, disconnect_.data(), disconnect_.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    }
    close_link(link);
    link.state = LinkState::closed;
  }
}

Runner::Snapshot Runner::snapshot() const {
  Snapshot snapshot;
  snapshot.at = now_;
  snapshot.counters = counters_;
  if (options_.broker_pid > 0) snapshot.broker_cpu = process_cpu_seconds(options_.broker_pid);
  snapshot.own_cpu = process_cpu_seconds(0);
  snapshot.own_wait = process_runqueue_wait_seconds(0);
  if (options_.broker_pid > 0) snapshot.broker_wait = process_runqueue_wait_seconds(options_.broker_pid);
  return snapshot;
}

void Runner::keep_alive_sweep() {
  const Duration idle_limit = seconds(options_.keep_alive) / 2;
  for (Link& link : links_) {
    if (link.state != LinkState::ready || now_ - link.last_sent < idle_limit) continue;
    link.output += pingreq_;
    link.last_sent = now_;
    mark_dirty(link);
  }
}

}  // namespace stellwerk::bench

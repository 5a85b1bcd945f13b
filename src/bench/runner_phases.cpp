// The phases of a run (see runner.h): when each begins and ends, and what is
// sampled at each boundary.
#include <algorithm>

#include "bench/proc_stats.h"
#include "bench/runner.h"

namespace stellwerk::bench {
namespace {

constexpr auto kLongestProbe = seconds(2);
constexpr auto kShortestProbe = milliseconds(300);

}  // namespace

void Runner::advance_phase() {
  switch (phase_) {
    case Phase::connecting:
      if (interrupted_ || now_ >= phase_deadline_ || links_ready_ + links_failed_ == links_.size()) {
        finish_connecting();
      }
      return;
    case Phase::warmup:
      maybe_start_syscall_probe();
      if (interrupted_ || now_ >= phase_deadline_) {
        finish_syscall_probe();
        interrupted_ ? end_measuring() : begin_measuring();
      }
      return;
    case Phase::measuring:
      if (interrupted_ || now_ >= phase_deadline_) end_measuring();
      return;
    case Phase::draining:
      drained_ = drained();
      if (drained_ || now_ >= phase_deadline_) phase_ = Phase::closing;
      return;
    case Phase::closing:
      close_all();
      phase_ = Phase::done;
      return;
    case Phase::done:
      return;
  }
}

void Runner::finish_connecting() {
  connects_done_ = now_;
  setup_end_ = snapshot();
  const char* why = interrupted_ ? "interrupted" : "not connected within --connect-timeout";
  for (Link& link : links_) {
    if (link.state != LinkState::ready) fail_link(link, why);
  }
  const bool can_go_on = links_failed_ == 0 || plan_.scenario == Scenario::connections;
  if (interrupted_ || !can_go_on) {
    phase_ = Phase::closing;
    return;
  }
  if (plan_.scenario == Scenario::connections) return begin_measuring();
  begin_traffic();
}

void Runner::begin_traffic() {
  phase_ = Phase::warmup;
  phase_deadline_ = now_ + options_.warmup;
  if (options_.count_syscalls != SyscallCounting::off) {
    const Duration probe = std::min<Duration>(kLongestProbe, options_.warmup / 2);
    if (probe >= kShortestProbe) {
      probe_start_at_ = phase_deadline_ - probe;
    } else {
      syscall_note_ = "warm-up too short to count system calls (needs 0.6 s)";
    }
  }
  // Spread the publishers' first due times over one interval, so that a
  // fixed rate is offered evenly rather than in bursts.
  const auto count = static_cast<int64_t>(publishers_.size());
  for (int64_t p = 0; p < count; ++p) {
    publishers_[static_cast<size_t>(p)].next_due = now_ + send_interval_ * p / std::max<int64_t>(count, 1);
    make_ready(static_cast<uint32_t>(p));
  }
}

void Runner::maybe_start_syscall_probe() {
  if (!probe_start_at_ || now_ < *probe_start_at_) return;
  probe_start_at_.reset();
  syscall_counter_ = SyscallCounter::start(options_.broker_pid, options_.count_syscalls, syscall_note_);
  probe_started_ = Clock::now();
  probe_delivered_ = counters_.delivered;
}

void Runner::finish_syscall_probe() {
  if (!syscall_counter_) return;
  const double elapsed = std::chrono::duration<double>(Clock::now() - probe_started_).count();
  const uint64_t delivered = counters_.delivered - probe_delivered_;
  syscalls_per_second_ = syscall_counter_->stop();
  syscall_note_ = syscalls_per_second_ ? syscall_counter_->tool() : "the counting tool reported nothing";
  syscall_counter_.reset();
  if (elapsed > 0 && delivered > 0) probe_delivery_rate_ = static_cast<double>(delivered) / elapsed;
  now_ = Clock::now();  // stopping the tool took a moment
}

void Runner::begin_measuring() {
  phase_ = Phase::measuring;
  phase_deadline_ = now_ + options_.duration;
  latency_.clear();
  measuring_ = true;
  measure_start_ = snapshot();
}

void Runner::end_measuring() {
  if (!measuring_) measure_start_ = snapshot();  // interrupted in the warm-up: nothing measured
  measure_end_ = snapshot();
  measuring_ = false;
  if (options_.broker_pid > 0) rss_at_end_ = process_rss_kib(options_.broker_pid);
  if (plan_.scenario == Scenario::connections) {
    phase_ = Phase::closing;
    return;
  }
  phase_ = Phase::draining;
  phase_deadline_ = now_ + options_.drain_timeout;
}

bool Runner::drained() const {
  return std::all_of(publishers_.begin(), publishers_.end(), [](const Publisher& publisher) {
    return publisher.oldest_pending == publisher.sent && publisher.awaiting_ack.empty() &&
           publisher.awaiting_complete.empty();
  });
}

}  // namespace stellwerk::bench

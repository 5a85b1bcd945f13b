#include "server/worker_balance.h"

#include <algorithm>
#include <numeric>

namespace stellwerk::server {
namespace {

uint64_t grown(uint64_t before, uint64_t after) { return after > before ? after - before : 0; }

}  // namespace

BalanceDecision WorkerBalance::review(const BalanceSample& sample) {
  const bool comparable = have_last_ && sample.at > last_.at && sample.workers.size() == workers_ &&
                          last_.workers.size() == workers_;
  window_ = comparable ? window_between(last_, sample) : Window{};
  last_ = sample;
  have_last_ = true;
  if (!comparable || workers_ < 2) return {};
  return state_ == State::steady ? review_steady(window_, sample.at) : review_trial(window_, sample.at);
}

WorkerBalance::Window WorkerBalance::window_between(const BalanceSample& before,
                                                    const BalanceSample& after) const {
  const double seconds = std::chrono::duration<double>(after.at - before.at).count();
  Window window;
  window.bytes_per_second = static_cast<double>(grown(before.bytes, after.bytes)) / seconds;
  for (size_t i = 0; i < active_; ++i) {
    window.wait_share += static_cast<double>(grown(before.workers[i].wait_ns, after.workers[i].wait_ns));
    window.busy += static_cast<double>(grown(before.workers[i].cpu_ns, after.workers[i].cpu_ns));
  }
  window.wait_share /= seconds * 1e9;
  window.busy /= seconds * 1e9;
  window.mean_busy = window.busy / static_cast<double>(active_);
  return window;
}

BalanceDecision WorkerBalance::review_steady(const Window& window, TimePoint now) {
  count_pattern(window);
  if (now < hold_until_) return {};
  if (fewer_windows_ >= kPatternWindows) {
    const bool short_of_cores = fewer_why_ == BalanceReason::short_of_cores;
    return start_trial(State::fewer_on_trial, {.step = BalanceStep::park,
                                               .worker = active_ - 1,
                                               .why = fewer_why_,
                                               .figure = short_of_cores ? window.wait_share : window.busy});
  }
  if (saturated_windows_ >= kPatternWindows) {
    return start_trial(State::more_on_trial, {.step = BalanceStep::unpark,
                                              .worker = active_,
                                              .why = BalanceReason::saturated,
                                              .figure = window.mean_busy});
  }
  return {};
}

void WorkerBalance::count_pattern(const Window& window) {
  recent_[recent_next_] = window.bytes_per_second;
  recent_next_ = (recent_next_ + 1) % recent_.size();
  if (window.bytes_per_second < kMinimumBytesPerSecond) {
    fewer_windows_ = saturated_windows_ = 0;
    return;
  }
  fewer_why_ = fewer_might_do(window);
  const bool saturated = active_ < workers_ && window.mean_busy >= kSaturated;
  fewer_windows_ = fewer_why_ != BalanceReason::none ? fewer_windows_ + 1 : 0;
  saturated_windows_ = saturated ? saturated_windows_ + 1 : 0;
}

BalanceReason WorkerBalance::fewer_might_do(const Window& window) const {
  if (active_ < 2) return BalanceReason::none;
  if (window.wait_share >= kShortOfCores) return BalanceReason::short_of_cores;
  if (window.busy <= kFitsOnFewer * static_cast<double>(active_ - 1)) return BalanceReason::fits_on_fewer;
  return BalanceReason::none;
}

double WorkerBalance::recent_mean() const {
  return std::accumulate(recent_.begin(), recent_.end(), 0.0) / static_cast<double>(recent_.size());
}

BalanceDecision WorkerBalance::start_trial(State trial, BalanceDecision step) {
  baseline_ = recent_mean();  // the pattern's windows: it is as long as recent_
  state_ = trial;
  trial_windows_ = 0;
  trial_sum_ = 0;
  fewer_windows_ = saturated_windows_ = 0;
  ++trials_;
  active_ = step.step == BalanceStep::park ? active_ - 1 : active_ + 1;
  return step;
}

BalanceDecision WorkerBalance::review_trial(const Window& window, TimePoint now) {
  ++trial_windows_;
  if (trial_windows_ <= kSettleWindows) return {};
  trial_sum_ += window.bytes_per_second;
  if (trial_windows_ < kSettleWindows + kTrialWindows) return {};
  return end_trial(trial_sum_ / kTrialWindows, now);
}

BalanceDecision WorkerBalance::end_trial(double trial_rate, TimePoint now) {
  const bool fewer = state_ == State::fewer_on_trial;
  state_ = State::steady;
  const int doublings = std::min(trials_ - 1, kMaxHoldDoublings);
  const bool kept = trial_rate >= baseline_ * (fewer ? kFewerMayLose : kMoreMustGain);
  lost_in_a_row_ = kept ? 0 : lost_in_a_row_ + 1;
  hold_until_ = now + (lost_in_a_row_ == 1 ? kRetryHold : kFirstHold * (1 << doublings));
  if (kept) return {};
  BalanceDecision revert{.why = BalanceReason::trial_lost, .figure = trial_rate, .before = baseline_};
  if (fewer) {
    revert.step = BalanceStep::unpark;
    revert.worker = active_++;
  } else {
    revert.step = BalanceStep::park;
    revert.worker = --active_;
  }
  return revert;
}

}  // namespace stellwerk::server

#include "net/pause_policy.h"

#include <algorithm>

namespace stellwerk::net {

bool PausePolicy::pays(TimePoint now) {
  if (window_start_ == TimePoint{}) window_start_ = now;
  Duration elapsed = now - window_start_;
  if (elapsed < kWindow) return pays_;
  using Seconds = std::chrono::duration<double>;
  // A sleep is counted in the window it ends in, so it can outlast the window.
  double busy_share = std::max(0.0, 1.0 - Seconds(asleep_) / Seconds(elapsed));
  pays_ = busy_share >= (pays_ ? stop_below_ : start_at_);
  window_start_ = now;
  asleep_ = Duration::zero();
  return pays_;
}

}  // namespace stellwerk::net

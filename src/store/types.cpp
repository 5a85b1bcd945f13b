// Conversions between the broker's in-memory session types and the store's
// wall-clock based records.
#include "store/types.h"

#include <algorithm>
#include <chrono>

namespace stellwerk::store {

std::string_view to_string(StoreError error) {
  switch (error) {
    case StoreError::io:
      return "i/o error";
    case StoreError::failed:
      return "store failed earlier";
    case StoreError::stopped:
      return "store stopped";
  }
  return "unknown";
}

TimeBase TimeBase::now() {
  const auto wall = std::chrono::system_clock::now().time_since_epoch();
  return TimeBase{Clock::now(), std::chrono::duration_cast<std::chrono::milliseconds>(wall).count()};
}

WallMs TimeBase::wall_of(TimePoint at) const {
  const auto offset = std::chrono::duration_cast<std::chrono::milliseconds>(at - steady).count();
  // 0 means "none", so a time before the epoch becomes the earliest real one.
  return std::max<WallMs>(1, wall + offset);
}

std::optional<TimePoint> TimeBase::to_steady(WallMs at) const {
  if (at == 0) return std::nullopt;
  // Stored times come from disk: keep absurd ones from overflowing the clock.
  constexpr WallMs kCentury = 100LL * 365 * 24 * 3600 * 1000;
  const WallMs offset = at > wall + kCentury ? kCentury : at < wall - kCentury ? -kCentury : at - wall;
  return steady + std::chrono::milliseconds(offset);
}

bool same_content(const session::Message& a, const session::Message& b) {
  return a.topic() == b.topic() && a.payload() == b.payload() && a.qos() == b.qos() && a.retain() == b.retain() &&
         a.properties() == b.properties();
}

SessionInfo to_info(const session::Lifetime& lifetime, const TimeBase& time) {
  return SessionInfo{lifetime.expiry_interval, lifetime.will, time.to_wall(lifetime.expires_at),
                     time.to_wall(lifetime.will_due_at)};
}

session::Lifetime to_lifetime(const SessionInfo& info, const TimeBase& time) {
  session::Lifetime lifetime;
  lifetime.expiry_interval = info.expiry_interval;
  lifetime.will = info.will;
  lifetime.expires_at = time.to_steady(info.expires_at);
  lifetime.will_due_at = time.to_steady(info.will_due_at);
  return lifetime;
}

}  // namespace stellwerk::store

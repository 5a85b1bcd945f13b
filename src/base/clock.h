// Time as an injected dependency: protocol code takes `TimePoint now` as a
// parameter; the server reads the real clock once per loop turn.
#pragma once

#include <chrono>
#include <cstdint>

namespace stellwerk {

using Clock = std::chrono::steady_clock;
using TimePoint = Clock::time_point;
using Duration = Clock::duration;
using std::chrono::milliseconds;
using std::chrono::seconds;

// Seconds since the Unix epoch, for $SYS and logs only.
int64_t wall_clock_seconds();

class ClockSource {
 public:
  virtual ~ClockSource() = default;
  virtual TimePoint now() const = 0;
};

class SteadyClockSource final : public ClockSource {
 public:
  TimePoint now() const override { return Clock::now(); }
};

// A clock the tests move by hand.
class FakeClock final : public ClockSource {
 public:
  TimePoint now() const override { return now_; }
  void advance(Duration by) { now_ += by; }

 private:
  TimePoint now_{std::chrono::hours(1)};
};

}  // namespace stellwerk

// Plain values shared by the store's API, its log records and its recovery
// output. The broker measures time on a steady clock, which means nothing
// after a restart, so everything the store keeps on disk uses wall-clock
// milliseconds since the Unix epoch; TimeBase converts between the two.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "base/clock.h"
#include "mqtt/packet.h"
#include "session/message.h"
#include "session/session.h"

namespace stellwerk::store {

// Position of a record in the log; 1 is the first record ever written and
// numbers keep growing across restarts, snapshots and segments.
using Sequence = uint64_t;
// Names a message body inside the store; chosen by the store.
using MessageId = uint64_t;
// Milliseconds since the Unix epoch; 0 means "none".
using WallMs = int64_t;

enum class StoreError : uint8_t {
  io,       // a file operation failed (details are logged)
  failed,   // an earlier write or sync failed: the store accepts nothing more
  stopped,  // the store is shutting down
};
std::string_view to_string(StoreError error);

enum class SyncPolicy : uint8_t {
  always,    // durable = written and fdatasync'ed
  interval,  // durable = written; fdatasync every sync_interval
  never,     // durable = written; the OS flushes when it likes
};

// The pair of clocks read at one instant, to translate steady-clock
// deadlines into wall-clock times and back.
struct TimeBase {
  TimePoint steady;
  WallMs wall = 0;

  static TimeBase now();
  // 0 for none: inline, as most messages have no expiry and the broker
  // converts every message it stores.
  WallMs to_wall(const std::optional<TimePoint>& at) const { return at ? wall_of(*at) : 0; }
  WallMs wall_of(TimePoint at) const;
  std::optional<TimePoint> to_steady(WallMs at) const;
};

// Whether two messages carry the same content as the store sees it: topic,
// payload, QoS, retain flag and properties. The steady-clock expiry and the
// publisher are left out: the store keeps the expiry as a wall-clock time
// beside the message, and the publisher means nothing after a restart.
bool same_content(const session::Message& a, const session::Message& b);

// What the store keeps of session::Lifetime.
struct SessionInfo {
  uint32_t expiry_interval = 0;
  std::optional<mqtt::Will> will;
  WallMs expires_at = 0;   // 0 while a connection was attached
  WallMs will_due_at = 0;  // 0 = no delayed will waiting

  bool operator==(const SessionInfo&) const = default;
};

SessionInfo to_info(const session::Lifetime& lifetime, const TimeBase& time);
session::Lifetime to_lifetime(const SessionInfo& info, const TimeBase& time);

}  // namespace stellwerk::store

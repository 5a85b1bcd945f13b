// An application message as the broker stores it: immutable once published and
// shared (reference counted) by every queue that holds it, so a payload sent to
// a thousand subscribers is stored once (DESIGN.md, principle 3).
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "base/clock.h"
#include "mqtt/packet.h"

namespace stellwerk::session {

struct Message {
  std::string topic;
  std::string payload;
  mqtt::QoS qos = mqtt::QoS::at_most_once;
  bool retain = false;
  // v5 properties forwarded to subscribers: payload format, content type,
  // response topic, correlation data, user properties. Topic alias,
  // subscription identifiers and message expiry are per delivery.
  mqtt::Properties properties;
  std::optional<TimePoint> expires_at;  // from Message Expiry Interval
  uint64_t publisher_session = 0;       // for No Local; 0 = the broker itself

  bool expired(TimePoint now) const { return expires_at && *expires_at <= now; }
  size_t footprint() const { return topic.size() + payload.size() + sizeof(Message); }
};

using MessagePtr = std::shared_ptr<const Message>;

}  // namespace stellwerk::session

// An application message as the broker stores it: immutable once published and
// shared (reference counted) by every queue that holds it, so a payload sent to
// a thousand subscribers is stored once (DESIGN.md, principle 3).
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "base/boxed.h"
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
  // subscription identifiers and message expiry are per delivery. Kept on
  // the heap and only when there are any: most messages carry none, and
  // inline they would cost 488 bytes per stored message.
  const mqtt::Properties& properties() const { return properties_ ? *properties_ : no_properties(); }
  void set_properties(mqtt::Properties properties) {
    if (properties == no_properties()) {
      properties_.reset();
    } else {
      properties_ = std::move(properties);
    }
  }
  std::optional<TimePoint> expires_at;  // from Message Expiry Interval
  uint64_t publisher_session = 0;       // for No Local; 0 = the broker itself

  bool expired(TimePoint now) const { return expires_at && *expires_at <= now; }
  size_t footprint() const { return topic.size() + payload.size() + sizeof(Message); }

 private:
  static const mqtt::Properties& no_properties() {
    static const mqtt::Properties none;
    return none;
  }
  Boxed<mqtt::Properties> properties_;
};

using MessagePtr = std::shared_ptr<const Message>;

// A message as the broker keeps it, from what a client sent (a PUBLISH, a
// will) or an import: the per-delivery properties (topic alias, subscription
// identifiers, will delay) are dropped, and the expiry interval becomes a
// deadline counted from `now`.
MessagePtr make_message(std::string topic, std::string payload, mqtt::QoS qos, bool retain,
                        mqtt::Properties properties, TimePoint now, uint64_t publisher_session);

}  // namespace stellwerk::session

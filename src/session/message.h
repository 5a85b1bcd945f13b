// An application message as the broker stores it: immutable once published and
// shared (reference counted) by every queue that holds it, so a payload sent to
// a thousand subscribers is stored once (DESIGN.md, principle 3).
#pragma once

#include <atomic>
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

 private:
  // store_id(), split to fill the padding; atomic so that a message shared
  // across threads stays race-free however it is used.
  mutable std::atomic<uint16_t> store_id_low_{0};
  mutable std::atomic<uint32_t> store_id_high_{0};

 public:
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

  // The durable store's id of this message (store/batch.h), 0 until the
  // store first records it: kept here so that naming a message in the log
  // costs no lookup. Read and set only by whoever builds store batches
  // (under the broker's lock); storing a message does not change it, hence
  // const. At most kMaxStoreId: 48 bits, kept in the padding after `retain`,
  // so the message stays 104 bytes (with make_shared's counts, 120: within
  // malloc's fast bins; 8 bytes more measurably slowed every publish).
  static constexpr uint64_t kMaxStoreId = (uint64_t{1} << 48) - 1;
  uint64_t store_id() const {
    return uint64_t{store_id_high_.load(std::memory_order_relaxed)} << 16 |
           store_id_low_.load(std::memory_order_relaxed);
  }
  void set_store_id(uint64_t id) const {
    store_id_low_.store(static_cast<uint16_t>(id), std::memory_order_relaxed);
    store_id_high_.store(static_cast<uint32_t>(id >> 16), std::memory_order_relaxed);
  }

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

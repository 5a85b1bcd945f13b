// An application message as the broker stores it: immutable once published and
// shared (reference counted) by every queue that holds it, so a payload sent to
// a thousand subscribers is stored once (DESIGN.md, principle 3).
//
// DESIGN: one heap block per message. A 32-byte header (reference count,
// sizes, qos and retain, the store id, the publisher, and a pointer to what
// few messages have: a v5 expiry deadline or v5 properties) is followed in
// the same block by the topic bytes and then the payload bytes. A retained
// message's block comes from a pool of size classes 8 bytes apart
// (base/block_pool.h) rather than from malloc, which adds a chunk header and
// rounds to 16: a retained fleet of a million devices costs the header and
// at most 7 bytes of rounding per message (issue 4: at most 64 bytes per
// retained message above topic and payload, tree and store included). Other
// messages live for one delivery or a queue's while and stay with malloc's
// faster per-thread caches. The count is intrusive, so a MessagePtr is one
// pointer wide; it is atomic because messages cross threads (workers, the
// store's snapshot thread).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>

#include "base/clock.h"
#include "mqtt/packet.h"

namespace stellwerk::session {

class MessagePtr;

// What a message carries besides its topic and payload, for Message::create.
struct MessageFields {
  mqtt::QoS qos = mqtt::QoS::at_most_once;
  bool retain = false;
  std::optional<TimePoint> expires_at;  // from Message Expiry Interval
  uint64_t publisher_session = 0;       // for No Local; 0 = the broker itself
  // v5 properties forwarded to subscribers: payload format, content type,
  // response topic, correlation data, user properties. Null or empty: none.
  std::unique_ptr<mqtt::Properties> properties;
};

class Message {
 public:
  // The bounds that the header's field widths rely on: a topic name is at
  // most 65,535 bytes (a two-byte length, spec 1.5.4), and a payload cannot be
  // longer than the largest packet (Remaining Length at most 268,435,455).
  static constexpr size_t kMaxTopicSize = 0xFFFF;
  static constexpr size_t kMaxPayloadSize = (size_t{1} << 28) - 1;

  // Copies topic and payload once into a new block. Both must be within the
  // bounds above (callers hold decoded MQTT, which is).
  static MessagePtr create(std::string_view topic, std::string_view payload, MessageFields fields);

  Message(const Message&) = delete;
  Message& operator=(const Message&) = delete;

  std::string_view topic() const { return {bytes(), topic_size_}; }
  std::string_view payload() const { return {bytes() + topic_size_, payload_size_}; }
  mqtt::QoS qos() const { return static_cast<mqtt::QoS>(qos_); }
  bool retain() const { return retain_ != 0; }
  uint64_t publisher_session() const { return publisher_session_; }
  std::optional<TimePoint> expires_at() const {
    if (!extras_ || extras_->expires_at == kNoExpiry) return std::nullopt;
    return extras_->expires_at;
  }
  bool expired(TimePoint now) const { return extras_ && extras_->expires_at != kNoExpiry && extras_->expires_at <= now; }
  const mqtt::Properties& properties() const {
    return extras_ && extras_->properties ? *extras_->properties : no_properties();
  }
  bool has_properties() const { return extras_ && extras_->properties; }

  // The durable store's id of this message (store/batch.h), 0 until the
  // store first records it: kept here so that naming a message in the log
  // costs no lookup. Read and set only by whoever builds store batches
  // (under the broker's lock); storing a message does not change it, hence
  // const. At most kMaxStoreId: 48 bits, split in two atomics so that the
  // header stays 32 bytes; atomic so that a message shared across threads
  // stays race-free however it is used.
  static constexpr uint64_t kMaxStoreId = (uint64_t{1} << 48) - 1;
  uint64_t store_id() const {
    return uint64_t{store_id_high_.load(std::memory_order_relaxed)} << 16 |
           store_id_low_.load(std::memory_order_relaxed);
  }
  void set_store_id(uint64_t id) const {
    store_id_low_.store(static_cast<uint16_t>(id), std::memory_order_relaxed);
    store_id_high_.store(static_cast<uint32_t>(id >> 16), std::memory_order_relaxed);
  }

  // Bytes this message holds on the heap: its block (header, topic,
  // payload) and its expiry and properties when it has any.
  size_t footprint() const {
    const size_t block = sizeof(Message) + topic_size_ + payload_size_;
    if (!extras_) return block;
    return block + sizeof(Extras) + (extras_->properties ? sizeof(mqtt::Properties) : 0);
  }
  // Whether the block came from the retained messages' pool (tests).
  bool pooled() const { return pooled_ != 0; }
  // Bytes the retained messages' pool holds from the system, which malloc's
  // heap figures do not include (bench/retained_memory).
  static size_t pool_reserved_bytes();

 private:
  friend class MessagePtr;
  static constexpr TimePoint kNoExpiry = TimePoint::max();
  // What few messages carry, kept out of the header every message pays.
  struct Extras {
    TimePoint expires_at = kNoExpiry;
    std::unique_ptr<const mqtt::Properties> properties;  // null when there are none
  };

  Message(std::string_view topic, std::string_view payload, MessageFields& fields, bool pooled);
  ~Message();
  char* bytes() { return reinterpret_cast<char*>(this + 1); }
  const char* bytes() const { return reinterpret_cast<const char*>(this + 1); }
  static const mqtt::Properties& no_properties();

  void add_reference() const { references_.fetch_add(1, std::memory_order_relaxed); }
  // The last release destroys the message and frees its block.
  static void release(const Message* message);

  mutable std::atomic<uint32_t> references_{1};
  uint32_t payload_size_ : 28;
  uint32_t qos_ : 2;
  uint32_t retain_ : 1;
  uint32_t pooled_ : 1;
  mutable std::atomic<uint32_t> store_id_high_{0};
  mutable std::atomic<uint16_t> store_id_low_{0};
  uint16_t topic_size_;
  uint64_t publisher_session_;
  const Extras* extras_;  // owned; null for most messages
};

// A counted reference to a Message, one pointer wide: what queues, the
// retained tree and the store hold. Copies share the message.
class MessagePtr {
 public:
  MessagePtr() = default;
  MessagePtr(std::nullptr_t) {}  // NOLINT: as a pointer
  MessagePtr(const MessagePtr& other) : message_(other.message_) {
    if (message_) message_->add_reference();
  }
  MessagePtr(MessagePtr&& other) noexcept : message_(std::exchange(other.message_, nullptr)) {}
  MessagePtr& operator=(MessagePtr other) noexcept {
    swap(other);
    return *this;
  }
  ~MessagePtr() { reset(); }

  const Message* get() const { return message_; }
  const Message* operator->() const { return message_; }
  const Message& operator*() const { return *message_; }
  explicit operator bool() const { return message_ != nullptr; }
  bool operator==(const MessagePtr& other) const { return message_ == other.message_; }
  bool operator==(std::nullptr_t) const { return message_ == nullptr; }

  void reset() {
    if (message_) Message::release(std::exchange(message_, nullptr));
  }
  void swap(MessagePtr& other) noexcept { std::swap(message_, other.message_); }
  // How many pointers share the message (tests: "no copy anywhere").
  uint32_t use_count() const { return message_ ? message_->references_.load(std::memory_order_relaxed) : 0; }

 private:
  friend class Message;
  explicit MessagePtr(const Message* adopted) : message_(adopted) {}

  const Message* message_ = nullptr;
};

// The properties to hand to MessageFields: null when there are none, so
// that an empty set costs no heap block.
std::unique_ptr<mqtt::Properties> properties_if_any(mqtt::Properties&& properties);

// A message as the broker keeps it, from what a client sent (a PUBLISH, a
// will) or an import: the per-delivery properties (topic alias, subscription
// identifiers, will delay) are dropped, and the expiry interval becomes a
// deadline counted from `now`. `properties` may be null (none); the message
// takes its contents.
MessagePtr make_message(std::string_view topic, std::string_view payload, mqtt::QoS qos, bool retain,
                        mqtt::Properties* properties, TimePoint now, uint64_t publisher_session);
inline MessagePtr make_message(std::string_view topic, std::string_view payload, mqtt::QoS qos, bool retain,
                               mqtt::Properties properties, TimePoint now, uint64_t publisher_session) {
  return make_message(topic, payload, qos, retain, &properties, now, publisher_session);
}

}  // namespace stellwerk::session

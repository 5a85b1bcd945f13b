// Session state that outlives a network connection (v5 section 4.1): the
// subscriptions, the queue of messages waiting for the client, the outbound
// QoS 1/2 messages in flight, the inbound QoS 2 packet ids not yet released,
// and the will. Pure data and bookkeeping: no I/O, no clock reads.
#pragma once

#include <bitset>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "base/boxed.h"
#include "base/clock.h"
#include "base/lazy_deque.h"
#include "mqtt/packet.h"
#include "session/message.h"
#include "session/subscription_list.h"

namespace stellwerk::session {

using SessionId = uint64_t;

// One message on its way to this session's client.
struct Delivery {
  MessagePtr message;
  mqtt::QoS qos = mqtt::QoS::at_most_once;
  bool retain = false;
  std::vector<uint32_t> subscription_ids;
};

enum class InflightState : uint8_t { awaiting_puback, awaiting_pubrec, awaiting_pubcomp };

struct Inflight {
  uint16_t packet_id = 0;
  InflightState state = InflightState::awaiting_puback;
  Delivery delivery;
};

// The retained messages one SUBSCRIBE released that the client has not been
// sent yet. They are not queued: the broker pulls them from the retained tree
// in topic order, a batch at a time, as the client's window and output allow
// (broker/retained_backlog.cpp), so a `#` over millions of topics neither
// holds the broker for long nor overflows the queue limits.
struct RetainedBacklog {
  std::string filter;
  mqtt::QoS max_qos = mqtt::QoS::at_most_once;
  uint32_t identifier = 0;            // v5 Subscription Identifier, 0 = none
  std::optional<std::string> cursor;  // the last topic fetched; nullopt = none yet
  std::deque<MessagePtr> fetched;     // fetched in topic order, not sent yet
  bool walk_done = false;             // the tree has nothing after the cursor
};

struct QueueLimits {
  size_t max_messages = 1000;  // 0 = unlimited
  size_t max_bytes = 0;        // 0 = unlimited
  size_t max_inflight = 20;    // 0 = unlimited (65535)
  bool queue_qos0_offline = false;
};

struct SessionCounters {
  uint64_t dropped_queue_full = 0;
  uint64_t dropped_expired = 0;
  uint64_t dropped_too_large = 0;
};

// When the session and its will end (v5 sections 3.1.2.5 and 3.1.2.11.2).
struct Lifetime {
  uint32_t expiry_interval = 0;          // seconds after disconnect; kNever = never
  std::optional<TimePoint> expires_at;   // set while no connection is attached
  Boxed<mqtt::Will> will;                // of the attached (or last) connection
  std::optional<TimePoint> will_due_at;  // a delayed will waiting to be published
  static constexpr uint32_t kNever = 0xFFFFFFFF;
};

class Session {
 public:
  Session(SessionId id, std::string client_id) : id_(id), client_id_(std::move(client_id)) {}

  SessionId id() const { return id_; }
  const std::string& client_id() const { return client_id_; }
  // The user name of the connection attached last, for access checks on
  // messages delivered while it is away.
  const std::optional<std::string>& username() const { return username_; }
  void set_username(std::optional<std::string> username) { username_ = std::move(username); }

  // --- the network connection attached now (the broker's id for it), 0
  // while the client is away. The broker keeps no table of online sessions:
  // this is it.
  uint64_t connection() const { return connection_; }
  bool online() const { return connection_ != 0; }
  void attach(uint64_t connection) { connection_ = connection; }
  void detach() { connection_ = 0; }

  // --- subscriptions (the broker mirrors them into its topic tree)
  // Returns true when the filter is new for this session.
  bool add_subscription(const std::string& filter, const Subscription& sub);
  bool remove_subscription(const std::string& filter);
  using Subscriptions = SubscriptionList;
  const Subscriptions& subscriptions() const { return subscriptions_; }

  // --- outbound queue. Returns false (and counts) when the queue is full and
  // the delivery was dropped.
  [[nodiscard]] bool enqueue(Delivery delivery, const QueueLimits& limits, bool online);
  bool has_queued() const { return traffic_ && !traffic_->queue.empty(); }
  size_t queued_count() const { return traffic_ ? traffic_->queue.size() : 0; }
  size_t queued_bytes() const { return traffic_ ? traffic_->queued_bytes : 0; }
  // Oldest first, QoS 0 entries included (a snapshot of the session skips them).
  const LazyDeque<Delivery>& queue() const { return traffic_ ? traffic_->queue : no_traffic().queue; }
  // Takes the next queued delivery that may be sent now: QoS 0 always, QoS 1/2
  // only while fewer than `window` are in flight. Expired ones are skipped.
  std::optional<Delivery> take_sendable(size_t window, TimePoint now);
  // Whether a `delivery` that enqueue() takes for an online client would
  // come straight back from take_sendable(): nothing queued before it, room
  // in the window (QoS 1/2), within the limits and not expired. The caller
  // may then send it without queueing it.
  bool sends_at_once(const Delivery& delivery, const QueueLimits& limits, size_t window, TimePoint now) const;

  // --- retained backlogs, oldest first. Not stored: a session resumed after
  // a reconnect does not continue them: retained messages go out when a
  // subscription is made (v5 section 3.8.4), not when a session resumes.
  // Adds one; an unfinished one for the same filter is replaced.
  void add_retained_backlog(RetainedBacklog backlog);
  // Ends the backlog of `filter` (unsubscribe). False when there is none.
  bool drop_retained_backlog(std::string_view filter);
  void clear_retained_backlogs();
  bool has_retained_backlog() const { return traffic_ && traffic_->retained_backlogs != nullptr; }
  // The oldest unfinished backlog, or null.
  RetainedBacklog* next_retained_backlog();
  // The oldest backlog is done.
  void finish_retained_backlog();

  // --- outbound in flight
  // Registers a QoS 1/2 delivery as sent with a fresh packet id.
  Inflight& start_inflight(Delivery delivery);
  size_t inflight_count() const { return traffic_ ? traffic_->inflight.size() : 0; }
  // Puts back an entry recovered from the store, keeping its packet id so the
  // resend uses the same one [MQTT-4.4.0-1].
  void restore_inflight(Inflight entry);
  // Puts back a recovered queue entry; limits do not apply to what was
  // accepted before the restart.
  void restore_queued(Delivery delivery);
  // PUBACK / PUBCOMP: removes the entry. False when the id is unknown or in
  // the wrong state.
  bool complete_inflight(uint16_t packet_id, InflightState expected);
  // PUBREC: moves the entry to awaiting PUBCOMP. False when unknown.
  bool mark_released(uint16_t packet_id);
  const LazyDeque<Inflight>& inflight() const {
    return traffic_ ? traffic_->inflight : no_traffic().inflight;
  }

  // --- inbound QoS 2 (exactly once, method B of v5 figure 4.3)
  // Returns true when this packet id is new (the message must be delivered).
  bool begin_inbound_qos2(uint16_t packet_id);
  bool release_inbound_qos2(uint16_t packet_id) {
    return traffic_ && traffic_->inbound_qos2.erase(packet_id) > 0;
  }
  size_t inbound_qos2_count() const { return traffic_ ? traffic_->inbound_qos2.size() : 0; }
  const std::set<uint16_t>& inbound_qos2() const {
    return traffic_ ? traffic_->inbound_qos2 : no_traffic().inbound_qos2;
  }

  // Whether the session outlives its connection (and so is stored).
  bool persistent() const { return lifetime_.expiry_interval != 0; }

  // Drops all queued and in-flight messages (clean start).
  void clear_messages();

  Lifetime& lifetime() { return lifetime_; }
  const Lifetime& lifetime() const { return lifetime_; }

  SessionCounters& counters() { return traffic().counters; }
  const SessionCounters& counters() const { return traffic_ ? traffic_->counters : no_traffic().counters; }

 private:
  // Everything about messages in and out. Made by the first message (or
  // subscription with retained messages), then kept: many sessions never
  // get one, and a broker holds a session per connection, so an idle
  // session carries one pointer instead of these 80-odd bytes of empty
  // containers (docs/performance.md, memory).
  struct Traffic {
    LazyDeque<Delivery> queue;
    size_t queued_bytes = 0;
    LazyDeque<Inflight> inflight;  // in send order, for resending on reconnect
    // Which packet ids `inflight` holds, once it is longer than a scan
    // should be: with a wide window a linear search per new id made QoS 1
    // quadratic. 8 KiB, made only for sessions that need it, then kept.
    std::unique_ptr<std::bitset<65536>> ids_in_use;
    std::set<uint16_t> inbound_qos2;
    // On the heap while a SUBSCRIBE's retained messages are being sent,
    // else null: most sessions never have one.
    std::unique_ptr<std::deque<RetainedBacklog>> retained_backlogs;
    uint16_t last_packet_id = 0;
    SessionCounters counters;
  };
  Traffic& traffic();
  static const Traffic& no_traffic();
  // Frees Traffic when it holds nothing a fresh one would not: every
  // SUBSCRIBE makes a retained backlog, and a session with a subscription
  // but no messages should not keep the space for them.
  void release_traffic_if_unused();

  uint16_t allocate_packet_id();
  bool packet_id_in_use(uint16_t id) const;
  void add_inflight(Inflight entry);
  void note_id_released(uint16_t id);

  SessionId id_;
  uint64_t connection_ = 0;
  std::string client_id_;
  std::optional<std::string> username_;
  SubscriptionList subscriptions_;
  std::unique_ptr<Traffic> traffic_;  // null until the first message
  Lifetime lifetime_;
};

}  // namespace stellwerk::session

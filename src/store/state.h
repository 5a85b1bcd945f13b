// The store's picture of the broker's durable state, built by applying
// records: the mirror the store thread keeps (so a snapshot needs nothing
// from the broker), and the state recovery rebuilds from disk. apply() is
// total: a record that refers to a missing session or message changes
// nothing, so a damaged or partial history still gives a usable state.
//
// Message bodies are reference counted by retained, queue and in-flight
// entries; a body nobody references is dropped at the end of the batch that
// left it unreferenced (or that put it without a reference). A body is the
// broker's immutable session::Message itself, shared (record::MessagePut):
// the mirror costs a map entry per message, not a second copy of it, and the
// retained index is keyed by a view of each body's own topic.
#pragma once

#include <deque>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "store/record.h"
#include "store/types.h"

namespace stellwerk::store {

struct StoredSubscription {
  mqtt::SubscriptionOptions options;
  uint32_t identifier = 0;
  bool operator==(const StoredSubscription&) const = default;
};

struct StoredInflight {
  uint16_t packet_id = 0;
  session::InflightState state = session::InflightState::awaiting_puback;
  DeliveryRef delivery;
  bool operator==(const StoredInflight&) const = default;
};

struct StoredSession {
  SessionInfo info;
  std::map<std::string, StoredSubscription> subscriptions;
  std::deque<DeliveryRef> queue;
  std::deque<StoredInflight> inflight;  // in send order
  std::set<uint16_t> inbound_qos2;
  bool operator==(const StoredSession&) const = default;
};

// A session as recovery hands it to the broker.
struct RecoveredSession {
  std::string client_id;
  SessionInfo info;  // session::Lifetime through to_lifetime()
  std::map<std::string, session::Subscription> subscriptions;
  std::vector<session::Delivery> queue;     // oldest first
  std::vector<session::Inflight> inflight;  // in send order; resend with these packet ids
  std::vector<uint16_t> inbound_qos2;
};

struct RecoveredState {
  Sequence sequence = 0;                      // the last record recovered; the store continues after it
  std::vector<session::MessagePtr> retained;  // in topic order; each message's topic is its retained topic
  std::vector<RecoveredSession> sessions;     // in client id order
};

class State {
 public:
  void apply(const Record& record);
  // The same for a body handed over without a Record around it (moved in).
  void apply(record::MessagePut&& put);
  // Drops the bodies the batch left unreferenced.
  void end_batch();

  // The records that rebuild this state from nothing, in an order apply()
  // accepts (bodies first). Call between batches.
  void for_each_record(const std::function<void(const Record&)>& emit) const;

  // Builds broker values. The bodies themselves are handed out, so the
  // broker and the mirror share them, and a message referred to by several
  // entries stays one message; only a message with an expiry is copied, to
  // give it its steady-clock deadline from `time`. Each message carries its
  // body's id (session::Message::store_id()), so the store names it again
  // without a lookup.
  RecoveredState to_recovered(const TimeBase& time) const;

  // Gives the bodies the ids 1..n, for a store whose ids approach what a
  // message holds (MessageIds). Call between batches.
  void renumber_messages();

  MessageId highest_message_id() const { return highest_message_id_; }
  size_t message_count() const { return messages_.size(); }
  size_t session_count() const { return sessions_.size(); }
  const std::map<std::string, StoredSession>& sessions() const { return sessions_; }
  // Topic -> body, in topic order; the key views the body's own topic.
  const std::map<std::string_view, MessageId>& retained() const { return retained_; }
  const session::Message* message(MessageId id) const;

  // Equal content (bodies compared by value and reference count).
  bool operator==(const State& other) const;

 private:
  struct Body {
    session::MessagePtr message;
    WallMs expires_at = 0;
    size_t references = 0;
    bool operator==(const Body& other) const;
  };

  void apply_one(record::MessagePut r);
  void apply_one(const record::RetainedSet& r);
  void apply_one(const record::RetainedClear& r);
  void apply_one(const record::SessionPut& r);
  void apply_one(const record::SessionDelete& r);
  void apply_one(const record::SubscriptionPut& r);
  void apply_one(const record::SubscriptionDelete& r);
  void apply_one(const record::QueuePush& r);
  void apply_one(const record::QueueDrop& r);
  void apply_one(const record::QueueToInflight& r);
  void apply_one(const record::InflightPut& r);
  void apply_one(const record::InflightState& r);
  void apply_one(const record::InflightDelete& r);
  void apply_one(const record::InboundQos2Add& r);
  void apply_one(const record::InboundQos2Remove& r);
  void apply_one(const record::MessagesClear& r);
  void apply_one(const record::SnapshotEnd&) {}

  // The body's message with its deadline on the steady clock of `time`.
  static session::MessagePtr with_deadline(const Body& body, const TimeBase& time);
  StoredSession* find_session(const std::string& client_id);
  bool add_reference(MessageId id);
  void release(MessageId id);
  void release_messages(StoredSession& session);
  // Removes queue entries up to the first for `message`; returns that entry.
  std::optional<DeliveryRef> take_queued(StoredSession& session, MessageId message);
  void put_inflight(StoredSession& session, StoredInflight entry);
  void emit_session(const std::string& client_id, const StoredSession& session,
                    const std::function<void(const Record&)>& emit) const;

  std::unordered_map<MessageId, Body> messages_;
  // Ordered, so that snapshots list topics in order, recovery appends to
  // the end and hands them to the broker in order without sorting (the
  // broker's retained tree fills far faster so); keys view
  // messages_[id].message->topic.
  std::map<std::string_view, MessageId> retained_;
  std::map<std::string, StoredSession> sessions_;
  std::vector<MessageId> maybe_unreferenced_;
  MessageId highest_message_id_ = 0;
};

}  // namespace stellwerk::store

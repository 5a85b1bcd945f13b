// The store's picture of the broker's durable state, built by applying
// records: the mirror the store thread keeps (so a snapshot needs nothing
// from the broker), and the state recovery rebuilds from disk. apply() is
// total: a record that refers to a missing session or message changes
// nothing, so a damaged or partial history still gives a usable state.
//
// A body is the broker's immutable session::Message itself, shared
// (record::MessagePut), never a copy. Bodies live in two places, because a
// mirror of a million retained messages must cost little per message:
//  - retained messages in one open-addressing set keyed by each message's own
//    topic (store/retained_index.h): one 8-byte slot per retained topic. The body's id
//    is the message's store_id(), its wall-clock expiry (rare) in a side table.
//  - bodies that queue or in-flight entries hold, by id, counted by those
//    entries; a body put in a batch waits here too until the batch ends.
// A body nobody holds is dropped at the end of the batch that left it
// unheld (or that put it without a reference). A body only a retained entry
// holds cannot be found by id: a record that adds a reference names a body
// put in its own batch, as the broker always writes (store/batch.h).
//
// The set has no order: snapshots and recovery sort the retained topics
// when they need them in order, so both stay deterministic.
#pragma once

#include <tsl/robin_map.h>
#include <tsl/robin_set.h>

#include <deque>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "store/record.h"
#include "store/retained_index.h"
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

// The packet ids of a session's in-flight entries, once there are more than a
// scan finds quickly (the mirror checks one for every message sent). An index
// kept by State, not content: equal sessions may differ in it.
struct InflightIds {
  tsl::robin_set<uint16_t> ids;  // empty while the entries are few
  bool operator==(const InflightIds&) const { return true; }
};

struct StoredSession {
  SessionInfo info;
  std::map<std::string, StoredSubscription> subscriptions;
  std::deque<DeliveryRef> queue;
  std::deque<StoredInflight> inflight;  // in send order
  InflightIds inflight_ids;
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
  // The mirror's most frequent records, from views (record::decode_inflight_entry,
  // decode_client_packet, decode_inflight_delete_many): the same as apply()
  // of the decoded record.
  void apply_queue_push_inflight(const InflightEntryView& r);
  void apply_inflight_delete(const ClientPacketView& r);
  void apply_inflight_delete_many(const InflightDeleteManyView& r);
  // Makes room for `messages` more bodies and `retained` retained topics, so
  // that loading a snapshot does not grow the tables step by step.
  void reserve(size_t messages, size_t retained);
  // Recovery: while `keep` and while retained topics arrive in rising order
  // into an empty set (as a snapshot lists them), remember that order, so
  // that each goes in without a lookup (it cannot be there yet) and neither
  // to_recovered() nor the next snapshot sorts them. Off: forgets it (it
  // costs a pointer per topic).
  void keep_topic_order(bool keep);
  // Drops the bodies the batch left unreferenced.
  void end_batch();
  // After replaying decoded records (recovery): a message a retained entry
  // and a queue or in-flight entry share, decoded from two batches, becomes
  // one message again; and when a damaged log gave one id to two different
  // messages, the retained one gets an id of its own, so that a snapshot
  // says what this state holds. The broker's own records never need it:
  // one id, one message. Cheap unless the log put a known id again.
  void settle_decoded_bodies();

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
  // Distinct bodies held; walks the retained set (for logs and tests).
  size_t message_count() const;
  size_t session_count() const { return sessions_.size(); }
  size_t retained_count() const { return retained_.size(); }
  const std::map<std::string, StoredSession>& sessions() const { return sessions_; }
  // The retained message of `topic`, or null.
  const session::Message* retained(std::string_view topic) const;
  // The body with this id, or null; walks the retained set (for tests).
  const session::Message* message(MessageId id) const;

  // Equal content (bodies compared by value and reference count).
  bool operator==(const State& other) const;

 private:
  static std::string_view topic_of(const session::Message& message) { return message.topic(); }

  // A body that queue or in-flight entries hold (`references` of them), or
  // that the current batch put.
  struct Body {
    session::MessagePtr message;
    WallMs expires_at = 0;
    uint32_t references = 0;
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
  void apply_one(const record::InflightDeleteMany& r);
  void apply_one(const record::InboundQos2Add& r);
  void apply_one(const record::InboundQos2Remove& r);
  void apply_one(const record::MessagesClear& r);
  void apply_one(const record::SnapshotEnd&) {}
  void apply_one(const record::Slice&) {}
  void apply_one(const record::QueuePushInflight& r);
  void apply_one(const record::MessagePutInflight& r);

  // The body's message with its deadline on the steady clock of `time`.
  static session::MessagePtr with_deadline(const session::MessagePtr& message, WallMs expires_at,
                                           const TimeBase& time);
  StoredSession* find_session(std::string_view client_id);
  bool add_reference(MessageId id);
  void release(MessageId id);
  void release_messages(StoredSession& session);
  // Removes queue entries up to the first for `message`; returns that entry.
  std::optional<DeliveryRef> take_queued(StoredSession& session, MessageId message);
  void put_inflight(StoredSession& session, StoredInflight entry);
  void push_inflight(std::string_view client_id, uint16_t packet_id, session::InflightState state,
                     const DeliveryRef& delivery);
  void delete_inflight(std::string_view client_id, uint16_t packet_id);
  static bool holds_packet_id(StoredSession& session, uint16_t packet_id);
  static void erase_inflight(StoredSession& session, std::deque<StoredInflight>::iterator entry);
  void emit_session(const std::string& client_id, const StoredSession& session,
                    const std::function<void(const Record&)>& emit) const;
  void replace_retained(session::MessagePtr& slot, MessageId id, const Body& body);
  void set_retained_expiry(MessageId id, WallMs expires_at);
  void forget_retained_expiry(const session::Message& message);
  WallMs retained_expiry(MessageId id) const;
  // The retained messages sorted by topic: snapshots list them so (the same
  // state gives the same bytes), and the broker's retained tree fills in
  // topic order several times faster than in hash order.
  std::vector<const session::MessagePtr*> retained_in_topic_order() const;
  bool same_retained(const State& other) const;
  // Whether `message` continues the remembered topic order (keep_topic_order());
  // forgets the order when it does not.
  bool extends_topic_order(const session::Message& message);
  void forget_topic_order();
  // settle_decoded_bodies() for one retained message; `seen` holds the ids
  // of those settled before it.
  void settle_retained(session::MessagePtr& message, tsl::robin_set<MessageId>& seen);

  tsl::robin_map<MessageId, Body> bodies_;
  RetainedIndex retained_;
  // The retained set in topic order, while in_topic_order_ (keep_topic_order()).
  std::vector<session::MessagePtr> topic_order_;
  bool in_topic_order_ = false;
  // Retained bodies that expire (v5 Message Expiry Interval), by id.
  tsl::robin_map<MessageId, WallMs> retained_expiry_;
  std::map<std::string, StoredSession> sessions_;
  // sessions_ by client id in O(1): the mirror looks one up for nearly every
  // record, and a tree of long client ids costs a dozen string compares each.
  // It names the map's own keys and values, which stay where they are when
  // the map (and the State, which cannot be copied) is moved.
  tsl::robin_map<std::string_view, StoredSession*> session_index_;
  std::vector<MessageId> maybe_unreferenced_;
  bool known_id_put_again_ = false;  // see settle_decoded_bodies()
  MessageId highest_message_id_ = 0;
};

}  // namespace stellwerk::store

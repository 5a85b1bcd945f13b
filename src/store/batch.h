// Building the records of one broker action on the broker's thread.
//
// A Batch collects the changes one broker action makes (a PUBLISH routed to
// its subscribers, a SUBSCRIBE, a CONNECT, an acknowledgement) and
// Store::commit() hands it to the store thread in one piece. A batch is
// atomic: recovery applies all of it or none of it.
//
// Messages are named by their session::MessagePtr, as the broker holds them.
// The store gives each message an id the first time it sees it. A batch
// that adds references to a message (enqueue, put_inflight, retain) carries
// its body once, however many queues it puts the message in: a PUBLISH
// routed to a thousand sessions stores its payload once. A later batch that
// adds a reference carries the body again, because the store drops a body as
// soon as nothing refers to it and cannot know the broker still holds it;
// records that only move or remove entries (dequeue, start_inflight)
// refer to the id alone.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "store/frame.h"
#include "store/record.h"

namespace stellwerk::store {

// Which message ids the store gave to which messages. Keyed by address and
// checked through a weak pointer: a live message at an address whose entry
// has expired is a new message that reuses the memory.
class MessageRegistry {
 public:
  std::optional<MessageId> find(const session::MessagePtr& message) const;
  MessageId assign(const session::MessagePtr& message);
  // For recovery: each message keeps the id it had, and new ids start after `highest`.
  void seed(const std::vector<std::pair<MessageId, session::MessagePtr>>& messages);
  void start_after(MessageId highest);
  size_t size() const { return entries_.size(); }

 private:
  struct Entry {
    std::weak_ptr<const session::Message> message;
    MessageId id = 0;
  };
  void prune();

  std::unordered_map<const session::Message*, Entry> entries_;
  MessageId next_ = 1;
  size_t prune_at_ = 1024;
};

class Batch {
 public:
  bool empty() const { return records_ == 0; }
  size_t records() const { return records_; }
  size_t bytes() const { return bytes_.size(); }

  // --- retained messages
  // `message` becomes the retained message of its topic.
  void retain(const session::MessagePtr& message);
  void clear_retained(std::string_view topic);

  // --- sessions
  // Creates the session or updates its lifetime (expiry, will, deadlines).
  void put_session(std::string_view client_id, const SessionInfo& info);
  void delete_session(std::string_view client_id);
  void subscribe(std::string_view client_id, std::string_view filter, const session::Subscription& sub);
  void unsubscribe(std::string_view client_id, std::string_view filter);

  // --- a session's queue and in-flight window
  void enqueue(std::string_view client_id, const session::Delivery& delivery);
  // The queue's entry for `message` left the queue (sent at QoS 0 or
  // expired); so did every entry before it.
  void dequeue(std::string_view client_id, const session::MessagePtr& message);
  // The queue's entry for `message` was sent with `packet_id` and is now in
  // flight in `state`; entries before it left the queue.
  void start_inflight(std::string_view client_id, const session::MessagePtr& message, uint16_t packet_id,
                      session::InflightState state);
  // Adds or replaces an in-flight entry that did not come from the queue.
  void put_inflight(std::string_view client_id, const session::Inflight& inflight);
  void set_inflight_state(std::string_view client_id, uint16_t packet_id, session::InflightState state);
  void complete_inflight(std::string_view client_id, uint16_t packet_id);
  // Clean start: the queue, the in-flight entries and inbound QoS 2 ids go.
  void clear_messages(std::string_view client_id);

  // --- inbound QoS 2 packet ids
  void add_inbound_qos2(std::string_view client_id, uint16_t packet_id);
  void release_inbound_qos2(std::string_view client_id, uint16_t packet_id);

 private:
  friend class Store;
  friend class BatchTest;  // builds batches on its own registry
  Batch(MessageRegistry& registry, const TimeBase& time) : registry_(&registry), time_(time) {}

  void add(const Record& record);
  // The message's id, with its body added to this batch unless already in it.
  MessageId body_of(const session::MessagePtr& message);
  DeliveryRef delivery_ref(const session::Delivery& delivery);
  // Marks the last frame as the end of the batch and hands out the bytes.
  std::string finish();

  MessageRegistry* registry_;
  TimeBase time_;
  std::string bytes_;
  size_t records_ = 0;
  size_t last_frame_ = 0;
  std::unordered_set<MessageId> bodies_;  // written in this batch
};

}  // namespace stellwerk::store

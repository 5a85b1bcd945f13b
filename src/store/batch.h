// Building the records of one broker action on the broker's thread.
//
// A Batch collects the changes one broker action makes (a PUBLISH routed to
// its subscribers, a SUBSCRIBE, a CONNECT, an acknowledgement) and
// Store::commit() hands it to the store thread in one piece. A batch is
// atomic: recovery applies all of it or none of it.
//
// Messages are named by their session::MessagePtr, as the broker holds them.
// The store gives each message an id the first time it sees it (MessageIds). A batch
// that adds references to a message (enqueue, put_inflight, retain) carries
// its body once, however many queues it puts the message in: a PUBLISH
// routed to a thousand sessions stores its payload once. A later batch that
// adds a reference carries the body again, because the store drops a body as
// soon as nothing refers to it and cannot know the broker still holds it;
// records that only move or remove entries (dequeue, start_inflight)
// refer to the id alone.
#pragma once

#include <tsl/robin_set.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "store/frame.h"
#include "store/record.h"

namespace stellwerk::store {

// Gives messages their store ids. The id is kept in the message itself
// (session::Message::store_id()), so that the broker's thread finds it
// without a lookup: a message routed to a thousand sessions, then sent to
// each, is named two thousand times. The contract that makes this safe: a
// message is recorded by at most one store in its life. The broker has one
// store, and after a restart it holds the recovered messages, which carry
// their recovered ids (State::to_recovered()).
//
// A message holds 48 bits of id. Ids grow by one per message and continue
// after the highest recovered one; Store::open renumbers the recovered
// bodies once that passes kRenumberAbove, so a single run has 2^47 ids
// (four years at a million messages a second).
class MessageIds {
 public:
  // The id the store gave `message`, or nullopt when it never recorded it.
  static std::optional<MessageId> find(const session::Message& message);
  // The message's id, given now if it has none.
  MessageId assign(const session::Message& message);
  // New ids start after `highest` (recovery's highest id).
  void start_after(MessageId highest);
  static constexpr MessageId kRenumberAbove = session::Message::kMaxStoreId / 2;

 private:
  MessageId next_ = 1;
};

// A finished batch as the store takes it: the frames to write, and the
// bodies they carry, in the order of their message_put frames, so that the
// store's mirror takes the broker's messages themselves instead of decoding
// copies of them (store/snapshotter.h).
struct BatchData {
  std::string frames;
  std::vector<record::MessagePut> bodies;
};

// A Batch is reused: Store::commit() takes its contents and leaves it empty
// with its buffers' capacity, so that the broker allocates nothing per call.
class Batch {
 public:
  bool empty() const { return records_ == 0; }
  // The clocks of the broker call that fills the batch next (used to store
  // expiry deadlines as wall-clock times); set while it is empty.
  void set_time(const TimeBase& time) { time_ = time; }
  size_t records() const { return records_; }

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
  // enqueue() followed at once by start_inflight(): a delivery the session
  // sends as soon as it takes it, recorded as one queue_push_inflight with
  // nothing kept in between.
  void push_inflight(std::string_view client_id, const session::Delivery& delivery, uint16_t packet_id,
                     session::InflightState state);
  // Takes back the last enqueue(), when nothing was recorded after it (the
  // session refused the delivery). A body it added stays in the batch:
  // recovery drops a body that nothing refers to.
  void withdraw_enqueue();
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
  friend class SnapshotWriter;  // takes the frames of a snapshot's slices
  friend class BatchTest;       // builds batches on its own ids
  // `bodies_wanted`, when given, says whether finish_into() must hand over
  // the messages themselves (BatchData::bodies, for the store's mirror):
  // without a mirror, holding each message costs two atomic operations.
  Batch(MessageIds& ids, const TimeBase& time, const std::atomic<bool>* bodies_wanted = nullptr)
      : ids_(&ids), time_(time), bodies_wanted_(bodies_wanted) {}

  void add(const Record& record);
  // A record of `type` whose payload encode(out) appends, without a Record.
  template <typename Encode>
  void add_as(RecordType type, Encode&& encode);
  // The message's id, with its body added to this batch unless already in it.
  MessageId body_of(const session::MessagePtr& message);
  // The message's id when this batch carries its body already, else 0 (no
  // message has id 0).
  MessageId carried_body(const session::Message& message);
  // Adds a record of `type` that carries the body of `message`: its payload
  // is what before_body(id, writer) writes, then the message_put payload.
  // Returns the message's id.
  template <typename EncodeBefore>
  MessageId add_body(const session::MessagePtr& message, RecordType type, EncodeBefore&& before_body);
  bool has_body(MessageId id);
  DeliveryRef delivery_ref(const session::Delivery& delivery);
  // Marks the last frame as the end of the batch, appends its contents to
  // `out` and leaves this batch empty.
  void finish_into(BatchData& out);
  BatchData finish();

  void add_queue_push_inflight(std::string_view client_id, uint16_t packet_id, session::InflightState state,
                               MessageId message, mqtt::QoS qos, bool retain,
                               std::span<const uint32_t> subscription_ids);
  // Writes the queue_push just added for `message` as a queue_push_inflight,
  // when nothing came after it; false otherwise.
  bool send_pushed(std::string_view client_id, MessageId message, uint16_t packet_id,
                   session::InflightState state);
  // Adds `packet_id` to the batch's last record when that is an
  // inflight_delete of the same session (its acknowledgements read in one
  // loop turn); false otherwise.
  bool extend_inflight_delete(std::string_view client_id, uint16_t packet_id);
  // Writes the queue_push that enqueue() left pending, if any: before any
  // other frame, and when the batch is finished.
  void write_pending_push();

  MessageIds* ids_;
  TimeBase time_;
  const std::atomic<bool>* bodies_wanted_;
  // The last queue_push, counted in records_ but not encoded until another
  // record follows it: a delivery the broker sends at once follows it with
  // its start_inflight, and the two become one queue_push_inflight, encoded
  // once.
  struct LastPush {
    bool pending = false;
    std::string client_id;  // a copy: the check must not read a session that may be gone
    MessageId message = 0;
    mqtt::QoS qos = mqtt::QoS::at_most_once;
    bool retain = false;
    std::vector<uint32_t> subscription_ids;
  };
  LastPush last_push_;
  // The inflight_delete or inflight_delete_many this batch wrote last, kept
  // so that the next acknowledgement of the same session extends it without
  // decoding it. Open only while it is the batch's last frame.
  static constexpr size_t kNoFrame = SIZE_MAX;
  struct OpenDelete {
    size_t frame = kNoFrame;  // its offset in bytes_
    std::string client_id;
    uint16_t first_packet_id = 0;
    uint16_t count = 0;
    size_t count_at = 0;  // offset of an inflight_delete_many's count
  };
  OpenDelete open_delete_;
  // The frames up to end_, then room for the next ones that stays from record
  // to record (coding::Writer's kept end); trimmed when the batch is finished.
  std::string bytes_;
  size_t end_ = 0;
  size_t records_ = 0;
  size_t last_frame_ = 0;
  std::vector<record::MessagePut> bodies_;  // written in this batch, in frame order, when wanted
  std::vector<MessageId> body_ids_;         // of every body written in this batch, in frame order
  // The same ids, once there are too many for a scan (a SUBSCRIBE's
  // retained messages, an import, the PUBLISHes of a worker's loop turn,
  // which the server commits together). Open addressing: an id costs no
  // allocation, and the buckets stay from one batch to the next.
  tsl::robin_set<MessageId> body_index_;
};

}  // namespace stellwerk::store

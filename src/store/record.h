// The records of the write-ahead log and of snapshots, as values, and their
// payload encoding. Framing (length, type, sequence, CRC) is in frame.h; the
// byte layout of every payload is documented in docs/formats/store.md.
//
// Records are changes to the store's state (state.h), named after what the
// broker did: a snapshot is the same records describing the state from
// scratch, so one decoder and one apply() serve the log, snapshots and the
// store's own in-memory mirror.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "store/coding.h"
#include "store/types.h"

namespace stellwerk::store {

enum class RecordType : uint8_t {
  message_put = 1,
  retained_set = 2,
  retained_clear = 3,
  session_put = 4,
  session_delete = 5,
  subscription_put = 6,
  subscription_delete = 7,
  queue_push = 8,
  queue_drop = 9,
  queue_to_inflight = 10,
  inflight_put = 11,
  inflight_state = 12,
  inflight_delete = 13,
  inbound_qos2_add = 14,
  inbound_qos2_remove = 15,
  messages_clear = 16,
  snapshot_end = 17,
  queue_push_inflight = 18,
  slice = 19,
  inflight_delete_many = 20,
  message_put_inflight = 21,
};
inline constexpr uint8_t kLastRecordType = 21;
std::string_view to_string(RecordType type);

// A delivery in a session's queue or in flight; the body is referenced.
struct DeliveryRef {
  MessageId message = 0;
  mqtt::QoS qos = mqtt::QoS::at_most_once;
  bool retain = false;
  std::vector<uint32_t> subscription_ids;

  bool operator==(const DeliveryRef&) const = default;
};

namespace record {

// A message body; it lives while a retained entry, queue entry or in-flight
// entry references it (checked at the end of each batch). Putting an id
// whose body exists changes nothing.
//
// The body is the broker's own immutable message, shared rather than
// copied: the store's mirror holds the very messages the broker routes, and
// recovery builds the messages the broker restores. What is stored of its
// expiry is `expires_at`, in wall-clock time; a decoded message has no
// steady-clock expiry of its own (State::to_recovered() gives it one).
struct MessagePut {
  MessageId id = 0;
  session::MessagePtr message;  // never null in a record that was encoded or decoded
  WallMs expires_at = 0;
  // Messages compare by content (same_content), not by address.
  bool operator==(const MessagePut& other) const;
};
// The body's topic now retains that body.
struct RetainedSet {
  MessageId id = 0;
  bool operator==(const RetainedSet&) const = default;
};
struct RetainedClear {
  std::string topic;
  bool operator==(const RetainedClear&) const = default;
};
// Creates the session or replaces its lifetime fields (subscriptions,
// queue and in-flight entries stay).
struct SessionPut {
  std::string client_id;
  SessionInfo info;
  bool operator==(const SessionPut&) const = default;
};
// Ends the session with everything it holds.
struct SessionDelete {
  std::string client_id;
  bool operator==(const SessionDelete&) const = default;
};
struct SubscriptionPut {
  std::string client_id;
  std::string filter;
  mqtt::SubscriptionOptions options;
  uint32_t identifier = 0;
  bool operator==(const SubscriptionPut&) const = default;
};
struct SubscriptionDelete {
  std::string client_id;
  std::string filter;
  bool operator==(const SubscriptionDelete&) const = default;
};
// Appends to the session's queue.
struct QueuePush {
  std::string client_id;
  DeliveryRef delivery;
  bool operator==(const QueuePush&) const = default;
};
// Removes the first queue entry for `message` and every entry before it: the
// broker takes from the front only, so those before it are gone too (it
// drops expired ones without saying). No entry for `message`: no change.
struct QueueDrop {
  std::string client_id;
  MessageId message = 0;
  bool operator==(const QueueDrop&) const = default;
};
// As QueueDrop, but the entry for `message` becomes in flight.
struct QueueToInflight {
  std::string client_id;
  MessageId message = 0;
  uint16_t packet_id = 0;
  session::InflightState state = session::InflightState::awaiting_puback;
  bool operator==(const QueueToInflight&) const = default;
};
// Adds an in-flight entry at the end, or replaces the one with this packet id.
struct InflightPut {
  std::string client_id;
  uint16_t packet_id = 0;
  session::InflightState state = session::InflightState::awaiting_puback;
  DeliveryRef delivery;
  bool operator==(const InflightPut&) const = default;
};
struct InflightState {
  std::string client_id;
  uint16_t packet_id = 0;
  session::InflightState state = session::InflightState::awaiting_puback;
  bool operator==(const InflightState&) const = default;
};
struct InflightDelete {
  std::string client_id;
  uint16_t packet_id = 0;
  bool operator==(const InflightDelete&) const = default;
};
struct InboundQos2Add {
  std::string client_id;
  uint16_t packet_id = 0;
  bool operator==(const InboundQos2Add&) const = default;
};
struct InboundQos2Remove {
  std::string client_id;
  uint16_t packet_id = 0;
  bool operator==(const InboundQos2Remove&) const = default;
};
// Empties the queue, the in-flight entries and the inbound QoS 2 ids (clean start).
struct MessagesClear {
  std::string client_id;
  bool operator==(const MessagesClear&) const = default;
};
// Last record of a snapshot: how many records came before it.
struct SnapshotEnd {
  uint64_t records = 0;
  bool operator==(const SnapshotEnd&) const = default;
};

// A message queued and sent in the same broker call: the queue_push and the
// queue_to_inflight that would follow it, in one record. Taking the pushed
// entry would remove every entry before it, so the session's queue ends
// empty, and the delivery is in flight with `packet_id` in `state`.
struct QueuePushInflight {
  std::string client_id;
  uint16_t packet_id = 0;
  session::InflightState state = session::InflightState::awaiting_puback;
  DeliveryRef delivery;
  bool operator==(const QueuePushInflight&) const = default;
};

// In a snapshot taken a slice at a time while the broker runs: the sessions
// described after it (up to the next slice) are as they were once the log
// held every record up to `captured_at`. Recovery skips a log record about
// such a session whose sequence is at or before that (docs/formats/store.md).
// Applying it changes nothing.
struct Slice {
  Sequence captured_at = 0;
  bool operator==(const Slice&) const = default;
};

// Several inflight_deletes of one session in one record, in order: the
// acknowledgements a session sent in one loop turn.
struct InflightDeleteMany {
  std::string client_id;
  std::vector<uint16_t> packet_ids;  // at least one
  bool operator==(const InflightDeleteMany&) const = default;
};

// A message_put and the queue_push_inflight of that message, in one record:
// the broker writes it for a message it sends at once to a session when the
// batch does not carry the body yet (a message routed to one stored session,
// the usual case). push.delivery.message is body.id. Recovery applies the
// body as any message_put and the push as any record about a session (see
// docs/formats/store.md, "Snapshots taken in slices").
struct MessagePutInflight {
  MessagePut body;
  QueuePushInflight push;
  bool operator==(const MessagePutInflight&) const = default;
};

}  // namespace record

// Alternatives in RecordType order (index + 1 == type).
using Record = std::variant<
    record::MessagePut, record::RetainedSet, record::RetainedClear, record::SessionPut, record::SessionDelete,
    record::SubscriptionPut, record::SubscriptionDelete, record::QueuePush, record::QueueDrop,
    record::QueueToInflight, record::InflightPut, record::InflightState, record::InflightDelete,
    record::InboundQos2Add, record::InboundQos2Remove, record::MessagesClear, record::SnapshotEnd,
    record::QueuePushInflight, record::Slice, record::InflightDeleteMany, record::MessagePutInflight>;

RecordType type_of(const Record& record);
// The client id of a record about a session, or nullopt for the others
// (bodies, retained topics, snapshot framing). A message_put_inflight names
// its push's session, though its body is not about one.
std::optional<std::string_view> client_id_of(const Record& record);
void encode_payload(const Record& record, std::string& out);
// The payload of a message_put record for `message`, byte for byte what
// encode_payload(MessagePut{id, message, expires_at}) writes, without
// building a Record first (the broker's hot path).
void encode_message_put(MessageId id, const session::Message& message, WallMs expires_at, coding::Writer& out);
// The payloads of the records written for every delivery to a stored
// session, from views: byte for byte what encode_payload of the record
// struct writes, without building one (no copy of the client id). Each
// encoder reserves the room it needs in `out` itself.
void encode_queue_push(std::string_view client_id, MessageId message, mqtt::QoS qos, bool retain,
                       std::span<const uint32_t> subscription_ids, coding::Writer& out);
void encode_queue_to_inflight(std::string_view client_id, MessageId message, uint16_t packet_id,
                              session::InflightState state, coding::Writer& out);
void encode_client_packet(std::string_view client_id, uint16_t packet_id, coding::Writer& out);
// The payload of an inflight_delete_many, as encode_payload writes it. The
// count is a fixed u16 just before the ids, so that a batch can add ids at
// the end and patch the count in place.
void encode_inflight_delete_many(std::string_view client_id, std::span<const uint16_t> packet_ids,
                                 coding::Writer& out);
void encode_queue_push_inflight(std::string_view client_id, uint16_t packet_id, session::InflightState state,
                                MessageId message, mqtt::QoS qos, bool retain,
                                std::span<const uint32_t> subscription_ids, coding::Writer& out);
// The id of a message_put payload, read without decoding the rest; nullopt
// when even that is malformed.
std::optional<MessageId> message_put_id(std::string_view payload);
// The record, or nullopt when the payload is malformed for its type (a
// record that passed its CRC yet does not decode came from a broken writer
// or a newer format; recovery treats it like damage).
std::optional<Record> decode_payload(RecordType type, std::string_view payload);

// The records the mirror applies for every delivery, decoded without
// building a Record: the client id stays a view into the payload. The
// decoders accept exactly what decode_payload accepts for these types.
struct InflightEntryView {  // inflight_put, queue_push_inflight, message_put_inflight's push
  std::string_view client_id;
  uint16_t packet_id = 0;
  session::InflightState state = session::InflightState::awaiting_puback;
  DeliveryRef delivery;  // reused from record to record: its vector keeps its capacity
};
struct ClientPacketView {  // inflight_delete, inbound_qos2_add, inbound_qos2_remove
  std::string_view client_id;
  uint16_t packet_id = 0;
};
struct InflightDeleteManyView {  // inflight_delete_many
  std::string_view client_id;
  std::string_view packet_ids;  // u16 little-endian each

  size_t count() const { return packet_ids.size() / 2; }
  uint16_t packet_id(size_t index) const { return coding::load_fixed<uint16_t>(packet_ids.data() + 2 * index); }
};
bool decode_inflight_entry(std::string_view payload, InflightEntryView& out);
bool decode_client_packet(std::string_view payload, ClientPacketView& out);
bool decode_inflight_delete_many(std::string_view payload, InflightDeleteManyView& out);
// The first part of a message_put_inflight (see record::MessagePutInflight):
// its queue_push_inflight, read into `entry`. Returns where the second part,
// a message_put payload, starts, or 0 when the first part is malformed.
size_t read_message_put_inflight_push(std::string_view payload, InflightEntryView& entry);

// mqtt::Properties as (property id, value) pairs ended by a 0 byte; shared
// by message bodies and wills.
void encode_properties(const mqtt::Properties& properties, coding::Writer& out);
void encode_properties(const mqtt::Properties& properties, std::string& out);
bool decode_properties(coding::Reader& reader, mqtt::Properties& out);

}  // namespace stellwerk::store

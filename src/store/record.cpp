// Payload encoding of each record type: one encode() and one decode()
// overload per record struct, fields in declaration order. Decoders check
// enum ranges and that the payload is consumed exactly.
#include "store/record.h"

#include <array>
#include <utility>

namespace stellwerk::store {
namespace {

using namespace coding;
using namespace record;

template <typename Enum>
bool read_enum(Reader& reader, Enum& out, uint8_t max) {
  const uint8_t value = reader.u8();
  out = static_cast<Enum>(value);
  return value <= max;
}

void put_enum(std::string& out, auto value) { put_u8(out, static_cast<uint8_t>(value)); }

void encode_will(const mqtt::Will& will, std::string& out) {
  put_bytes(out, will.topic);
  put_bytes(out, will.payload);
  put_enum(out, will.qos);
  put_u8(out, will.retain);
  encode_properties(will.properties, out);
}

bool decode_will(Reader& reader, mqtt::Will& will) {
  will.topic = reader.string();
  will.payload = reader.string();
  const bool qos_ok = read_enum(reader, will.qos, 2);
  will.retain = reader.boolean();
  return qos_ok && decode_properties(reader, will.properties);
}

// Room for a client id and the fixed-width fields after it in the records that name one.
size_t max_client_record_size(std::string_view client_id) { return kMaxVarintSize + client_id.size() + 8; }

size_t max_delivery_size(std::span<const uint32_t> ids) { return kMaxVarintSize * (2 + ids.size()) + 2; }

void encode_delivery_fields(MessageId message, mqtt::QoS qos, bool retain, std::span<const uint32_t> ids,
                            Writer& out) {
  out.varint(message);
  out.u8(static_cast<uint8_t>(qos));
  out.u8(retain);
  out.varint(ids.size());
  for (uint32_t id : ids) out.varint(id);
}

bool decode_delivery(Reader& reader, DeliveryRef& delivery) {
  delivery.message = reader.varint();
  const bool qos_ok = read_enum(reader, delivery.qos, 2);
  delivery.retain = reader.boolean();
  const uint64_t count = reader.varint();
  // Each id takes at least one byte: a larger count is damage, not a reason to allocate.
  if (count > reader.remaining()) return false;
  for (uint64_t i = 0; i < count; ++i) delivery.subscription_ids.push_back(reader.varint32());
  return qos_ok;
}

// Without the properties, which follow.
void encode_message_fields(MessageId id, std::string_view topic, std::string_view payload, mqtt::QoS qos,
                           bool retain, WallMs expires_at, Writer& out) {
  // qos, retain, expires_at, and one byte more: the properties' end marker when there are none.
  out.reserve(3 * kMaxVarintSize + topic.size() + payload.size() + 2 + sizeof(uint64_t) + 1);
  out.varint(id);
  out.bytes(topic);
  out.bytes(payload);
  out.u8(static_cast<uint8_t>(qos));
  out.u8(retain);
  out.u64(static_cast<uint64_t>(expires_at));
}

void encode(const MessagePut& r, std::string& out) {
  Writer writer(out);
  encode_message_put(r.id, *r.message, r.expires_at, writer);
}
bool decode(Reader& reader, MessagePut& r) {
  r.id = reader.varint();
  const std::string_view topic = reader.bytes();
  const std::string_view payload = reader.bytes();
  session::MessageFields fields;
  const bool qos_ok = read_enum(reader, fields.qos, 2);
  fields.retain = reader.boolean();
  r.expires_at = static_cast<WallMs>(reader.u64());
  mqtt::Properties properties;
  const bool properties_ok = decode_properties(reader, properties);
  fields.properties = session::properties_if_any(std::move(properties));
  r.message = session::Message::create(topic, payload, std::move(fields));
  return qos_ok && properties_ok;
}

void encode(const RetainedSet& r, std::string& out) { put_varint(out, r.id); }
bool decode(Reader& reader, RetainedSet& r) {
  r.id = reader.varint();
  return true;
}

void encode(const RetainedClear& r, std::string& out) { put_bytes(out, r.topic); }
bool decode(Reader& reader, RetainedClear& r) {
  r.topic = reader.string();
  return true;
}

void encode(const SessionPut& r, std::string& out) {
  put_bytes(out, r.client_id);
  put_u32(out, r.info.expiry_interval);
  put_u64(out, static_cast<uint64_t>(r.info.expires_at));
  put_u64(out, static_cast<uint64_t>(r.info.will_due_at));
  put_u8(out, r.info.will.has_value());
  if (r.info.will) encode_will(*r.info.will, out);
}
bool decode(Reader& reader, SessionPut& r) {
  r.client_id = reader.string();
  r.info.expiry_interval = reader.u32();
  r.info.expires_at = static_cast<WallMs>(reader.u64());
  r.info.will_due_at = static_cast<WallMs>(reader.u64());
  if (!reader.boolean()) return true;
  return decode_will(reader, r.info.will.emplace());
}

void encode(const SessionDelete& r, std::string& out) { put_bytes(out, r.client_id); }
bool decode(Reader& reader, SessionDelete& r) {
  r.client_id = reader.string();
  return true;
}

void encode(const SubscriptionPut& r, std::string& out) {
  put_bytes(out, r.client_id);
  put_bytes(out, r.filter);
  put_enum(out, r.options.max_qos);
  put_u8(out, r.options.no_local);
  put_u8(out, r.options.retain_as_published);
  put_enum(out, r.options.retain_handling);
  put_varint(out, r.identifier);
}
bool decode(Reader& reader, SubscriptionPut& r) {
  r.client_id = reader.string();
  r.filter = reader.string();
  const bool qos_ok = read_enum(reader, r.options.max_qos, 2);
  r.options.no_local = reader.boolean();
  r.options.retain_as_published = reader.boolean();
  const bool handling_ok = read_enum(reader, r.options.retain_handling, 2);
  r.identifier = reader.varint32();
  return qos_ok && handling_ok;
}

void encode(const SubscriptionDelete& r, std::string& out) {
  put_bytes(out, r.client_id);
  put_bytes(out, r.filter);
}
bool decode(Reader& reader, SubscriptionDelete& r) {
  r.client_id = reader.string();
  r.filter = reader.string();
  return true;
}

void encode(const QueuePush& r, std::string& out) {
  const DeliveryRef& d = r.delivery;
  Writer writer(out);
  encode_queue_push(r.client_id, d.message, d.qos, d.retain, d.subscription_ids, writer);
}
bool decode(Reader& reader, QueuePush& r) {
  r.client_id = reader.string();
  return decode_delivery(reader, r.delivery);
}

void encode(const QueueDrop& r, std::string& out) {
  put_bytes(out, r.client_id);
  put_varint(out, r.message);
}
bool decode(Reader& reader, QueueDrop& r) {
  r.client_id = reader.string();
  r.message = reader.varint();
  return true;
}

void encode(const QueueToInflight& r, std::string& out) {
  Writer writer(out);
  encode_queue_to_inflight(r.client_id, r.message, r.packet_id, r.state, writer);
}
bool decode(Reader& reader, QueueToInflight& r) {
  r.client_id = reader.string();
  r.message = reader.varint();
  r.packet_id = reader.u16();
  return read_enum(reader, r.state, 2);
}

// inflight_put and queue_push_inflight share one layout.
template <typename R>
void encode_inflight_entry(const R& r, std::string& out) {
  const DeliveryRef& d = r.delivery;
  Writer writer(out);
  encode_queue_push_inflight(r.client_id, r.packet_id, r.state, d.message, d.qos, d.retain, d.subscription_ids,
                             writer);
}
bool read_inflight_entry(Reader& reader, InflightEntryView& out) {
  out.client_id = reader.bytes();
  out.packet_id = reader.u16();
  const bool state_ok = read_enum(reader, out.state, 2);
  out.delivery.subscription_ids.clear();
  return decode_delivery(reader, out.delivery) && state_ok;
}
template <typename R>
bool decode_inflight_entry(Reader& reader, R& r) {
  InflightEntryView view;
  const bool ok = read_inflight_entry(reader, view);
  r.client_id = view.client_id;
  r.packet_id = view.packet_id;
  r.state = view.state;
  r.delivery = std::move(view.delivery);
  return ok;
}
void encode(const InflightPut& r, std::string& out) { encode_inflight_entry(r, out); }
bool decode(Reader& reader, InflightPut& r) { return decode_inflight_entry(reader, r); }
void encode(const QueuePushInflight& r, std::string& out) { encode_inflight_entry(r, out); }
bool decode(Reader& reader, QueuePushInflight& r) { return decode_inflight_entry(reader, r); }

void encode(const InflightState& r, std::string& out) {
  put_bytes(out, r.client_id);
  put_u16(out, r.packet_id);
  put_enum(out, r.state);
}
bool decode(Reader& reader, InflightState& r) {
  r.client_id = reader.string();
  r.packet_id = reader.u16();
  return read_enum(reader, r.state, 2);
}

// The three records made of a client id and a packet id share one layout.
template <typename R>
void encode_packet_id(const R& r, std::string& out) {
  Writer writer(out);
  encode_client_packet(r.client_id, r.packet_id, writer);
}
bool read_client_packet(Reader& reader, ClientPacketView& out) {
  out.client_id = reader.bytes();
  out.packet_id = reader.u16();
  return true;
}
template <typename R>
bool decode_packet_id(Reader& reader, R& r) {
  ClientPacketView view;
  read_client_packet(reader, view);
  r.client_id = view.client_id;
  r.packet_id = view.packet_id;
  return true;
}
void encode(const InflightDelete& r, std::string& out) { encode_packet_id(r, out); }
bool decode(Reader& reader, InflightDelete& r) { return decode_packet_id(reader, r); }
void encode(const InboundQos2Add& r, std::string& out) { encode_packet_id(r, out); }
bool decode(Reader& reader, InboundQos2Add& r) { return decode_packet_id(reader, r); }
void encode(const InboundQos2Remove& r, std::string& out) { encode_packet_id(r, out); }
bool decode(Reader& reader, InboundQos2Remove& r) { return decode_packet_id(reader, r); }

void encode(const MessagesClear& r, std::string& out) { put_bytes(out, r.client_id); }
bool decode(Reader& reader, MessagesClear& r) {
  r.client_id = reader.string();
  return true;
}

void encode(const SnapshotEnd& r, std::string& out) { put_u64(out, r.records); }
bool decode(Reader& reader, SnapshotEnd& r) {
  r.records = reader.u64();
  return true;
}

void encode(const Slice& r, std::string& out) { put_u64(out, r.captured_at); }
bool decode(Reader& reader, Slice& r) {
  r.captured_at = reader.u64();
  return true;
}

void encode(const InflightDeleteMany& r, std::string& out) {
  Writer writer(out);
  encode_inflight_delete_many(r.client_id, r.packet_ids, writer);
}
// The client id, then a count that must be at least 1 and match the ids
// that follow; the reader is left at the first id.
bool read_delete_many_head(Reader& reader, std::string_view& client_id) {
  client_id = reader.bytes();
  const uint16_t count = reader.u16();
  return reader.ok() && count != 0 && reader.remaining() == 2u * count;
}
bool decode(Reader& reader, InflightDeleteMany& r) {
  std::string_view client_id;
  if (!read_delete_many_head(reader, client_id)) return false;
  r.client_id = client_id;
  while (!reader.at_end()) r.packet_ids.push_back(reader.u16());
  return true;
}

void encode(const MessagePutInflight& r, std::string& out) {
  encode(r.push, out);
  encode(r.body, out);
}
bool decode(Reader& reader, MessagePutInflight& r) {
  const bool push_ok = decode(reader, r.push);
  const bool body_ok = decode(reader, r.body);
  // The push refers to the body it carries, and to nothing else.
  return push_ok && body_ok && r.push.delivery.message == r.body.id;
}

template <size_t I>
std::optional<Record> decode_alternative(std::string_view payload) {
  std::variant_alternative_t<I, Record> value;
  Reader reader(payload);
  const bool valid = decode(reader, value);
  if (!valid || !reader.finished()) return std::nullopt;
  return Record(std::in_place_index<I>, std::move(value));
}

template <size_t... I>
constexpr auto make_decoders(std::index_sequence<I...>) {
  return std::array{&decode_alternative<I>...};
}

constexpr auto kDecoders = make_decoders(std::make_index_sequence<std::variant_size_v<Record>>());
static_assert(kDecoders.size() == kLastRecordType);

constexpr std::array<std::string_view, kLastRecordType> kNames{"message_put",
                                                               "retained_set",
                                                               "retained_clear",
                                                               "session_put",
                                                               "session_delete",
                                                               "subscription_put",
                                                               "subscription_delete",
                                                               "queue_push",
                                                               "queue_drop",
                                                               "queue_to_inflight",
                                                               "inflight_put",
                                                               "inflight_state",
                                                               "inflight_delete",
                                                               "inbound_qos2_add",
                                                               "inbound_qos2_remove",
                                                               "messages_clear",
                                                               "snapshot_end",
                                                               "queue_push_inflight",
                                                               "slice",
                                                               "inflight_delete_many",
                                                               "message_put_inflight"};

}  // namespace

bool MessagePut::operator==(const MessagePut& other) const {
  if (id != other.id || expires_at != other.expires_at) return false;
  if (!message || !other.message) return message == other.message;
  return same_content(*message, *other.message);
}

std::string_view to_string(RecordType type) {
  const auto index = static_cast<size_t>(type);
  return index >= 1 && index <= kLastRecordType ? kNames[index - 1] : "unknown";
}

RecordType type_of(const Record& record) { return static_cast<RecordType>(record.index() + 1); }

std::optional<std::string_view> client_id_of(const Record& record) {
  return std::visit(
      [](const auto& r) -> std::optional<std::string_view> {
        if constexpr (requires { r.client_id; }) {
          return std::string_view(r.client_id);
        } else if constexpr (requires { r.push.client_id; }) {
          return std::string_view(r.push.client_id);  // its body is not about a session: see recovery.cpp
        } else {
          return std::nullopt;
        }
      },
      record);
}

void encode_payload(const Record& record, std::string& out) {
  std::visit([&](const auto& r) { encode(r, out); }, record);
}

bool decode_inflight_entry(std::string_view payload, InflightEntryView& out) {
  Reader reader(payload);
  return read_inflight_entry(reader, out) && reader.finished();
}

size_t read_message_put_inflight_push(std::string_view payload, InflightEntryView& entry) {
  Reader reader(payload);
  if (!read_inflight_entry(reader, entry) || !reader.ok()) return 0;
  return payload.size() - reader.remaining();
}

bool decode_client_packet(std::string_view payload, ClientPacketView& out) {
  Reader reader(payload);
  return read_client_packet(reader, out) && reader.finished();
}

bool decode_inflight_delete_many(std::string_view payload, InflightDeleteManyView& out) {
  Reader reader(payload);
  if (!read_delete_many_head(reader, out.client_id)) return false;
  out.packet_ids = payload.substr(payload.size() - reader.remaining());
  return true;
}

std::optional<Record> decode_payload(RecordType type, std::string_view payload) {
  const auto index = static_cast<size_t>(type);
  if (index < 1 || index > kLastRecordType) return std::nullopt;
  return kDecoders[index - 1](payload);
}

void encode_queue_push(std::string_view client_id, MessageId message, mqtt::QoS qos, bool retain,
                       std::span<const uint32_t> subscription_ids, Writer& out) {
  out.reserve(max_client_record_size(client_id) + max_delivery_size(subscription_ids));
  out.bytes(client_id);
  encode_delivery_fields(message, qos, retain, subscription_ids, out);
}

void encode_queue_to_inflight(std::string_view client_id, MessageId message, uint16_t packet_id,
                              session::InflightState state, Writer& out) {
  out.reserve(max_client_record_size(client_id) + kMaxVarintSize);
  out.bytes(client_id);
  out.varint(message);
  out.u16(packet_id);
  out.u8(static_cast<uint8_t>(state));
}

void encode_queue_push_inflight(std::string_view client_id, uint16_t packet_id, session::InflightState state,
                                MessageId message, mqtt::QoS qos, bool retain,
                                std::span<const uint32_t> subscription_ids, Writer& out) {
  out.reserve(max_client_record_size(client_id) + max_delivery_size(subscription_ids));
  out.bytes(client_id);
  out.u16(packet_id);
  out.u8(static_cast<uint8_t>(state));
  encode_delivery_fields(message, qos, retain, subscription_ids, out);
}

void encode_client_packet(std::string_view client_id, uint16_t packet_id, Writer& out) {
  out.reserve(max_client_record_size(client_id));
  out.bytes(client_id);
  out.u16(packet_id);
}

void encode_inflight_delete_many(std::string_view client_id, std::span<const uint16_t> packet_ids,
                                 Writer& out) {
  out.reserve(max_client_record_size(client_id) + sizeof(uint16_t) * packet_ids.size());
  out.bytes(client_id);
  out.u16(static_cast<uint16_t>(packet_ids.size()));
  for (const uint16_t packet_id : packet_ids) out.u16(packet_id);
}

void encode_message_put(MessageId id, const session::Message& message, WallMs expires_at, Writer& out) {
  encode_message_fields(id, message.topic(), message.payload(), message.qos(), message.retain(), expires_at, out);
  if (message.has_properties()) {
    encode_properties(message.properties(), out);
  } else {
    out.u8(0);  // no properties: their end marker alone (encode_message_fields left room for it)
  }
}

std::optional<MessageId> message_put_id(std::string_view payload) {
  Reader reader(payload);
  const MessageId id = reader.varint();
  if (!reader.ok()) return std::nullopt;
  return id;
}

}  // namespace stellwerk::store

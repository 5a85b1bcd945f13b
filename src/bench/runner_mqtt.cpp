// What the generator's clients say and how they answer: CONNECT and
// SUBSCRIBE while setting up, the QoS 1/2 handshakes on both sides, and the
// check of every delivered message against its publisher's stream.
#include <fmt/format.h>

#include "bench/runner.h"
#include "mqtt/codec.h"

namespace stellwerk::bench {
namespace {

bool is_failure(mqtt::ReasonCode reason) { return static_cast<uint8_t>(reason) >= 0x80; }

char role_letter(Role role) {
  switch (role) {
    case Role::publisher:
      return 'p';
    case Role::subscriber:
      return 's';
    case Role::idle:
      return 'c';
  }
  return '?';
}

uint64_t to_nanoseconds(TimePoint time) {
  return static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(time.time_since_epoch()).count());
}

}  // namespace

void Runner::send_connect(Link& link) {
  queue_connect(link);
  mark_dirty(link);
}

void Runner::queue_connect(Link& link) {
  mqtt::Connect connect;
  connect.version = options_.version;
  connect.protocol_name = "MQTT";
  connect.clean_start = options_.session_expiry == 0;
  connect.keep_alive = options_.keep_alive;
  connect.client_id = fmt::format("{}{}{}", client_id_prefix_, role_letter(link.role), link.index);
  if (options_.version == mqtt::Version::v5) {
    // Let the broker push as much as it likes; the publishers' windows bound it.
    connect.properties.receive_maximum = 65535;
    if (options_.session_expiry) connect.properties.session_expiry_interval = options_.session_expiry;
  }
  link.output += encode_packet(mqtt::Packet(std::move(connect)), options_.version);
  link.last_sent = now_;
}

void Runner::handle_frame(Link& link, std::span<const uint8_t> frame) {
  // Deliveries are nearly every frame: they are read in place, without the
  // copies and the variant of a decoded packet, so that the generator spends
  // its core on load rather than on itself.
  if (frame[0] >> 4 == static_cast<uint8_t>(mqtt::PacketType::publish)) return handle_publish(link, frame);
  auto decoded = mqtt::decode_packet(frame, options_.version);
  if (!decoded) return fail_link(link, "undecodable packet from the broker: " + decoded.error().why);
  mqtt::Packet& packet = decoded.value();
  if (const auto* ack = std::get_if<mqtt::Ack>(&packet)) return on_ack(link, *ack);
  if (const auto* connack = std::get_if<mqtt::Connack>(&packet)) return on_connack(link, *connack);
  if (const auto* suback = std::get_if<mqtt::Suback>(&packet)) return on_suback(link, *suback);
  if (std::holds_alternative<mqtt::Pingresp>(packet)) return;
  if (const auto* disconnect = std::get_if<mqtt::Disconnect>(&packet)) {
    return fail_link(link, fmt::format("the broker sent DISCONNECT (reason 0x{:02x})",
                                       static_cast<unsigned>(disconnect->reason)));
  }
  ++counters_.protocol_errors;  // a packet type a broker never sends to a client
}

void Runner::on_connack(Link& link, const mqtt::Connack& connack) {
  if (link.state != LinkState::awaiting_connack) {
    ++counters_.protocol_errors;
    return;
  }
  if (connack.reason != mqtt::ReasonCode::success) {
    return fail_link(link, fmt::format("CONNACK refused the connection (reason 0x{:02x})",
                                       static_cast<unsigned>(connack.reason)));
  }
  if (link.role == Role::publisher && connack.properties.receive_maximum) {
    publishers_[link.index].send_quota = *connack.properties.receive_maximum;
  }
  std::string filter;
  if (link.role == Role::subscriber) filter = plan_.subscriber_filter(link.index);
  if (link.role == Role::idle && options_.subscribe_idle) filter = plan_.idle_filter(link.index);
  if (filter.empty()) return link_ready(link);
  mqtt::Subscribe subscribe;
  subscribe.packet_id = 1;
  subscribe.topics.push_back(mqtt::TopicRequest{std::move(filter), mqtt::SubscriptionOptions{options_.qos}});
  link.output += encode_packet(mqtt::Packet(std::move(subscribe)), options_.version);
  link.state = LinkState::awaiting_suback;
  mark_dirty(link);
}

void Runner::on_suback(Link& link, const mqtt::Suback& suback) {
  if (link.state != LinkState::awaiting_suback) {
    ++counters_.protocol_errors;
    return;
  }
  if (suback.reasons.size() != 1 || is_failure(suback.reasons[0])) {
    return fail_link(link, "SUBACK refused the subscription");
  }
  link_ready(link);
}

void Runner::link_ready(Link& link) {
  link.state = LinkState::ready;
  --connecting_;
  ++links_ready_;
  // The next connection starts at once rather than after this turn's
  // events: the broker then always has some to work on.
  start_connects();
}

void Runner::handle_publish(Link& link, std::span<const uint8_t> frame) {
  const std::optional<DeliveryFrame> publish = read_delivery_frame(frame, options_.version);
  if (!publish) return fail_link(link, "undecodable PUBLISH from the broker");
  on_publish(link, *publish);
}

void Runner::on_publish(Link& link, const DeliveryFrame& publish) {
  if (publish.qos == mqtt::QoS::at_least_once) puback_.append_to(link.output, publish.packet_id);
  if (publish.qos == mqtt::QoS::exactly_once) pubrec_.append_to(link.output, publish.packet_id);
  if (publish.qos != mqtt::QoS::at_most_once) mark_dirty(link);
  const std::optional<Stamp> stamp = read_stamp(publish.payload);
  if (link.role != Role::subscriber || !stamp) {
    ++counters_.foreign;
    return;
  }
  record_delivery(subscribers_[link.index], *stamp);
}

void Runner::record_delivery(Subscriber& subscriber, const Stamp& stamp) {
  if (stamp.publisher < subscriber.first_source ||
      stamp.publisher - subscriber.first_source >= subscriber.streams.size()) {
    ++counters_.foreign;
    return;
  }
  const Arrival arrival =
      subscriber.streams[stamp.publisher - subscriber.first_source].accept(stamp.sequence);
  if (arrival == Arrival::duplicate) {
    ++counters_.duplicates;
    return;
  }
  if (arrival == Arrival::out_of_order) ++counters_.out_of_order;
  ++counters_.delivered;
  if (measuring_) {
    const uint64_t received = to_nanoseconds(now_);
    latency_.record(received > stamp.sent_ns ? received - stamp.sent_ns : 0);
  }
  complete(stamp.publisher, stamp.sequence);
}

void Runner::on_ack(Link& link, const mqtt::Ack& ack) {
  if (ack.type == mqtt::PacketType::pubrel && link.role != Role::publisher) {
    pubcomp_.append_to(link.output, ack.packet_id);
    mark_dirty(link);
    return;
  }
  if (link.role != Role::publisher) {
    ++counters_.protocol_errors;
    return;
  }
  Publisher& publisher = publishers_[link.index];
  on_publisher_ack(publisher, ack);
  if (!publisher.queued && can_send(publisher)) make_ready(link.index);
}

// QoS 1: PUBACK ends the flow. QoS 2: PUBREC is answered with PUBREL and
// PUBCOMP ends it. A refusal (v5 reason >= 0x80) ends it too, as an error.
void Runner::on_publisher_ack(Publisher& publisher, const mqtt::Ack& ack) {
  const bool refused = is_failure(ack.reason);
  if (refused) ++counters_.protocol_errors;
  const bool first_stage = ack.type == mqtt::PacketType::puback || ack.type == mqtt::PacketType::pubrec;
  const bool expected = (ack.type == mqtt::PacketType::puback && options_.qos == mqtt::QoS::at_least_once) ||
                        (ack.type != mqtt::PacketType::puback && options_.qos == mqtt::QoS::exactly_once &&
                         ack.type != mqtt::PacketType::pubrel);
  if (!expected) {
    ++counters_.protocol_errors;
    return;
  }
  IdQueue& queue = first_stage ? publisher.awaiting_ack : publisher.awaiting_complete;
  const IdQueue::Removed removed = queue.remove(ack.packet_id);
  // PUBACK and PUBREC must come in PUBLISH order; PUBCOMP has no such rule.
  if (removed == IdQueue::Removed::absent || (first_stage && removed == IdQueue::Removed::later)) {
    ++counters_.protocol_errors;
  }
  if (ack.type != mqtt::PacketType::pubrec || refused || removed == IdQueue::Removed::absent) return;
  publisher.awaiting_complete.push(ack.packet_id);
  pubrel_.append_to(links_[publisher.link].output, ack.packet_id);
  mark_dirty(links_[publisher.link]);
}

}  // namespace stellwerk::bench

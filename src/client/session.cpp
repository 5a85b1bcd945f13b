// Client protocol state machine (see session.h). Each handler is named after
// the packet it handles; every answer the spec requires is queued in output_
// before the handler returns, so a caller that writes output() after each
// receive() keeps the flows moving. Statement ids are MQTT 5's unless marked.
#include "client/session.h"

#include <fmt/format.h>

#include <utility>

#include "base/log.h"
#include "client/overloaded.h"
#include "mqtt/codec.h"
#include "mqtt/validate.h"

namespace stellwerk::client {
namespace {

// 3.1 allows client ids of 1 to 23 bytes only (3.1 section 3.1, "Client Identifier").
constexpr size_t kMaxV31ClientIdLength = 23;

ClientStatus check_connect(const mqtt::Connect& connect) {
  const bool v31 = connect.version == mqtt::Version::v31;
  if (v31 && (connect.client_id.empty() || connect.client_id.size() > kMaxV31ClientIdLength)) {
    return client_error(ErrorKind::usage, "MQTT 3.1 needs a client id of 1 to 23 bytes");
  }
  // 3.1.1 [MQTT-3.1.3-7]: an empty id needs a clean session.
  if (connect.version == mqtt::Version::v311 && connect.client_id.empty() && !connect.clean_start) {
    return client_error(ErrorKind::usage, "an empty client id needs a clean session");
  }
  // 3.1.1 [MQTT-3.1.2-22]: no password without a user name before MQTT 5.
  if (connect.version != mqtt::Version::v5 && connect.password && !connect.username) {
    return client_error(ErrorKind::usage, "a password needs a user name before MQTT 5");
  }
  if (connect.will && !mqtt::is_valid_topic_name(connect.will->topic)) {
    return client_error(ErrorKind::usage,
                        fmt::format("invalid will topic '{}'", connect.will->topic));
  }
  return {};
}

ClientError closed_by_server(const mqtt::Disconnect& disconnect) {
  std::string message = "disconnected by server: " + describe_reason(disconnect.reason);
  if (disconnect.properties.reason_string) message += ": " + *disconnect.properties.reason_string;
  return ClientError{ErrorKind::closed, std::move(message), disconnect.reason};
}

// 3.1.x servers send a return code (1-5), not the v5 reason code the decoder
// maps it to; the message shows the code that was on the wire.
ClientError refused(const mqtt::Connack& connack, mqtt::Version version) {
  std::string message = "connection refused: ";
  if (version == mqtt::Version::v5) {
    message += describe_reason(connack.reason);
  } else {
    message += fmt::format("{} (return code {})", reason_name(connack.reason),
                           static_cast<int>(mqtt::to_v3_connack_code(connack.reason)));
  }
  if (connack.properties.reason_string) message += ": " + *connack.properties.reason_string;
  return ClientError{ErrorKind::refused, std::move(message), connack.reason};
}

}  // namespace

Session::Session(SessionOptions options) : options_(options) {}

ClientStatus Session::connect(mqtt::Connect connect, TimePoint now) {
  connect.protocol_name = connect.version == mqtt::Version::v31 ? "MQIsdp" : "MQTT";
  if (auto checked = check_connect(connect); !checked) return checked;
  version_ = connect.version;
  client_id_ = connect.client_id;
  keep_alive_ = connect.keep_alive;
  own_maximum_packet_size_ = connect.properties.maximum_packet_size.value_or(0);
  limits_ = ServerLimits{};
  packet_ids_.clear();
  outgoing_.clear();
  requests_.clear();
  incoming_qos2_.clear();
  outgoing_aliases_.reset(0);
  incoming_aliases_.reset(connect.properties.topic_alias_maximum.value_or(0));
  ping_sent_.reset();
  input_.clear();
  output_.clear();
  state_ = SessionState::connecting;
  send(connect, now);
  return {};
}

ClientStatus Session::check_publish(const mqtt::Publish& message) const {
  if (state_ != SessionState::connected) return client_error(ErrorKind::usage, "not connected");
  const bool aliased_only = version_ == mqtt::Version::v5 && message.topic.empty() &&
                            message.properties.topic_alias.has_value();
  if (!aliased_only && !mqtt::is_valid_topic_name(message.topic)) {
    return client_error(ErrorKind::usage, fmt::format("invalid topic name '{}'", message.topic));
  }
  if (message.qos > limits_.maximum_qos) {  // [MQTT-3.2.2-11]
    return client_error(
        ErrorKind::usage,
        fmt::format("QoS {} is above the server's maximum QoS {}", static_cast<int>(message.qos),
                    static_cast<int>(limits_.maximum_qos)),
        mqtt::ReasonCode::qos_not_supported);
  }
  if (message.retain && !limits_.retain_available) {  // [MQTT-3.2.2-14]
    return client_error(ErrorKind::usage, "the server does not support retained messages",
                        mqtt::ReasonCode::retain_not_supported);
  }
  if (message.qos != mqtt::QoS::at_most_once && !can_publish()) {
    return client_error(ErrorKind::usage, "the server's Receive Maximum is reached",
                        mqtt::ReasonCode::receive_maximum_exceeded);
  }
  return check_size(message);
}

ClientStatus Session::check_size(const mqtt::Packet& packet) const {
  const size_t size = mqtt::encoded_size(packet, version_);
  // Remaining Length takes 4 bytes at most, so the whole packet is at most 5 more.
  if (size > mqtt::kMaxRemainingLength + 5) {
    return client_error(ErrorKind::usage, "packet too large for MQTT",
                        mqtt::ReasonCode::packet_too_large);
  }
  // [MQTT-3.2.2-15]
  if (limits_.maximum_packet_size != 0 && size > limits_.maximum_packet_size) {
    return client_error(ErrorKind::usage,
                        fmt::format("packet of {} bytes is above the server's maximum of {}", size,
                                    limits_.maximum_packet_size),
                        mqtt::ReasonCode::packet_too_large);
  }
  return {};
}

ClientResult<uint16_t> Session::publish(mqtt::Publish message, TimePoint now) {
  if (auto checked = check_publish(message); !checked) return fail(checked.error());
  message.dup = false;  // [MQTT-4.3.1-1], [MQTT-4.3.2-2], [MQTT-4.3.3-2]
  message.packet_id = 0;
  if (message.qos != mqtt::QoS::at_most_once) {
    auto id = packet_ids_.allocate();
    if (!id) return client_error(ErrorKind::usage, "all packet ids are in use");
    message.packet_id = *id;
    outgoing_[*id] = message.qos == mqtt::QoS::at_least_once ? OutgoingStep::awaiting_puback
                                                             : OutgoingStep::awaiting_pubrec;
  }
  if (version_ == mqtt::Version::v5) outgoing_aliases_.apply(message);
  send(message, now);
  return message.packet_id;
}

ClientResult<uint16_t> Session::subscribe(mqtt::Subscribe request, TimePoint now) {
  if (state_ != SessionState::connected) return client_error(ErrorKind::usage, "not connected");
  if (request.topics.empty()) return client_error(ErrorKind::usage, "no topic to subscribe to");
  for (const auto& topic : request.topics) {
    if (!mqtt::is_valid_topic_filter(topic.filter)) {
      return client_error(ErrorKind::usage, fmt::format("invalid topic filter '{}'", topic.filter));
    }
  }
  auto id = packet_ids_.allocate();
  if (!id) return client_error(ErrorKind::usage, "all packet ids are in use");
  request.packet_id = *id;
  if (auto sized = check_size(request); !sized) {
    packet_ids_.release(*id);
    return fail(sized.error());
  }
  requests_.insert(*id);
  send(request, now);
  return *id;
}

ClientResult<uint16_t> Session::unsubscribe(mqtt::Unsubscribe request, TimePoint now) {
  if (state_ != SessionState::connected) return client_error(ErrorKind::usage, "not connected");
  if (request.filters.empty()) return client_error(ErrorKind::usage, "no topic to unsubscribe");
  for (const auto& filter : request.filters) {
    if (!mqtt::is_valid_topic_filter(filter)) {
      return client_error(ErrorKind::usage, fmt::format("invalid topic filter '{}'", filter));
    }
  }
  auto id = packet_ids_.allocate();
  if (!id) return client_error(ErrorKind::usage, "all packet ids are in use");
  request.packet_id = *id;
  requests_.insert(*id);
  send(request, now);
  return *id;
}

void Session::disconnect(mqtt::Disconnect request, TimePoint now) {
  if (state_ == SessionState::connected || state_ == SessionState::connecting) send(request, now);
  state_ = SessionState::closed;
}

void Session::send(const mqtt::Packet& packet, TimePoint now) {
  mqtt::encode(packet, version_, output_);
  last_sent_ = now;
  if (observer_) observer_(Direction::sent, packet);
}

ClientStatus Session::fail_connection(mqtt::ReasonCode reason, std::string why, TimePoint now) {
  // v5 lets the client say why it closes; 3.1.x just closes the connection.
  if (version_ == mqtt::Version::v5 && state_ == SessionState::connected) {
    send(mqtt::Disconnect{reason, {}}, now);
  }
  state_ = SessionState::closed;
  return client_error(
      ErrorKind::protocol,
      fmt::format("protocol error from server: {} ({})", why, describe_reason(reason)), reason);
}

ClientStatus Session::receive(std::span<const uint8_t> bytes, TimePoint now,
                              std::vector<Event>& events) {
  if (state_ == SessionState::idle || state_ == SessionState::closed) {
    return client_error(ErrorKind::closed, "connection is closed");
  }
  input_.append(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  size_t consumed = 0;
  ClientStatus status;
  while (status && state_ != SessionState::closed) {
    std::span<const uint8_t> rest(reinterpret_cast<const uint8_t*>(input_.data()) + consumed,
                                  input_.size() - consumed);
    const mqtt::FrameScan scan = mqtt::scan_frame(rest);
    if (scan.status == mqtt::FrameStatus::need_more) break;
    if (scan.status == mqtt::FrameStatus::malformed) {
      status = fail_connection(mqtt::ReasonCode::malformed_packet, "bad fixed header", now);
      break;
    }
    const size_t size = scan.header.total_size();
    consumed += size;
    if (own_maximum_packet_size_ != 0 && size > own_maximum_packet_size_) {
      status = fail_connection(mqtt::ReasonCode::packet_too_large,
                               fmt::format("packet of {} bytes", size), now);
      break;
    }
    auto decoded = mqtt::decode_packet(rest.first(size), version_);
    if (!decoded) {
      status = fail_connection(decoded.error().reason, decoded.error().why, now);
      break;
    }
    if (observer_) observer_(Direction::received, decoded.value());
    status = handle(std::move(decoded).value(), now, events);
  }
  input_.erase(0, consumed);
  return status;
}

ClientStatus Session::handle(mqtt::Packet packet, TimePoint now, std::vector<Event>& events) {
  const mqtt::PacketType type = mqtt::packet_type(packet);
  if (state_ == SessionState::connecting && type != mqtt::PacketType::connack) {
    // CONNACK is the first packet the server sends (3.1.1 and v5 [MQTT-3.2.0-1]).
    return fail_connection(mqtt::ReasonCode::protocol_error,
                           fmt::format("{} before CONNACK", mqtt::packet_type_name(type)), now);
  }
  return std::visit(
      Overloaded{
          [&](mqtt::Connack& connack) { return on_connack(std::move(connack), events); },
          [&](mqtt::Publish& publish) { return on_publish(std::move(publish), now, events); },
          [&](mqtt::Ack& ack) { return on_ack(ack, now, events); },
          [&](mqtt::Suback& suback) {
            on_request_ack(suback.packet_id, event::Subscribed{std::move(suback)}, events);
            return ClientStatus();
          },
          [&](mqtt::Unsuback& unsuback) {
            on_request_ack(unsuback.packet_id, event::Unsubscribed{std::move(unsuback)}, events);
            return ClientStatus();
          },
          [&](mqtt::Pingresp&) {
            ping_sent_.reset();
            events.emplace_back(event::PingAnswered{});
            return ClientStatus();
          },
          [&](mqtt::Disconnect& disconnect) {
            state_ = SessionState::closed;
            return ClientStatus(fail(closed_by_server(disconnect)));
          },
          [&](auto&) {
            // CONNECT, SUBSCRIBE, UNSUBSCRIBE, PINGREQ go to servers only; AUTH
            // would need an authentication method, which this client never sets.
            return fail_connection(mqtt::ReasonCode::protocol_error,
                                   fmt::format("unexpected {}", mqtt::packet_type_name(type)), now);
          },
      },
      packet);
}

ClientStatus Session::on_connack(mqtt::Connack connack, std::vector<Event>& events) {
  if (state_ != SessionState::connecting) {
    state_ = SessionState::closed;
    return client_error(ErrorKind::protocol, "protocol error from server: a second CONNACK");
  }
  if (mqtt::is_error(connack.reason)) {
    state_ = SessionState::closed;
    return fail(refused(connack, version_));
  }
  const mqtt::Properties& p = connack.properties;
  limits_.receive_maximum = p.receive_maximum.value_or(65535);
  limits_.maximum_qos = static_cast<mqtt::QoS>(p.maximum_qos.value_or(2));
  limits_.retain_available = p.retain_available.value_or(1) != 0;
  limits_.maximum_packet_size = p.maximum_packet_size.value_or(0);
  limits_.topic_alias_maximum = p.topic_alias_maximum.value_or(0);
  keep_alive_ = p.server_keep_alive.value_or(keep_alive_);  // [MQTT-3.1.2-21]
  if (p.assigned_client_identifier) client_id_ = *p.assigned_client_identifier;
  outgoing_aliases_.reset(options_.use_topic_aliases ? limits_.topic_alias_maximum : 0);
  // Session Present with no local state would oblige us to close
  // [MQTT-3.2.2-4]; the tools keep no client-side state worth protecting and
  // `sub -c` relies on the server's stored subscriptions, so we carry on.
  state_ = SessionState::connected;
  events.emplace_back(event::Connected{std::move(connack)});
  return {};
}

ClientStatus Session::on_publish(mqtt::Publish publish, TimePoint now, std::vector<Event>& events) {
  if (version_ == mqtt::Version::v5) {
    if (auto resolved = incoming_aliases_.resolve(publish); !resolved) {
      return fail_connection(resolved.error(), "bad topic alias", now);
    }
  }
  const uint16_t id = publish.packet_id;
  switch (publish.qos) {
    case mqtt::QoS::at_most_once: events.emplace_back(event::Message{std::move(publish)}); break;
    case mqtt::QoS::at_least_once:  // [MQTT-4.3.2-4]
      events.emplace_back(event::Message{std::move(publish)});
      send_ack(mqtt::PacketType::puback, id, mqtt::ReasonCode::success, now);
      break;
    case mqtt::QoS::exactly_once:
      // A PUBLISH re-sent before PUBREL is acknowledged again but kept only
      // once [MQTT-4.3.3-10].
      incoming_qos2_.try_emplace(id, std::move(publish));
      send_ack(mqtt::PacketType::pubrec, id, mqtt::ReasonCode::success, now);  // [MQTT-4.3.3-8]
      break;
  }
  return {};
}

ClientStatus Session::on_ack(const mqtt::Ack& ack, TimePoint now, std::vector<Event>& events) {
  switch (ack.type) {
    case mqtt::PacketType::puback: on_puback(ack, events); break;
    case mqtt::PacketType::pubrec: on_pubrec(ack, now, events); break;
    case mqtt::PacketType::pubrel: on_pubrel(ack, now, events); break;
    case mqtt::PacketType::pubcomp: on_pubcomp(ack, events); break;
    default:
      return fail_connection(mqtt::ReasonCode::protocol_error, "bad acknowledgement type", now);
  }
  return {};
}

void Session::on_puback(const mqtt::Ack& ack, std::vector<Event>& events) {
  auto found = outgoing_.find(ack.packet_id);
  if (found == outgoing_.end() || found->second != OutgoingStep::awaiting_puback) {
    log::debug("ignoring PUBACK for unknown packet id {}", ack.packet_id);
    return;
  }
  finish_outgoing(ack.packet_id);
  events.emplace_back(event::PublishDone{ack.packet_id, ack.reason, ack.properties});
}

void Session::on_pubrec(const mqtt::Ack& ack, TimePoint now, std::vector<Event>& events) {
  auto found = outgoing_.find(ack.packet_id);
  if (found == outgoing_.end() || found->second == OutgoingStep::awaiting_puback) {
    // Answer anyway so the server can finish its side of the flow.
    send_ack(mqtt::PacketType::pubrel, ack.packet_id, mqtt::ReasonCode::packet_identifier_not_found,
             now);
    return;
  }
  if (mqtt::is_error(ack.reason)) {  // the flow ends here [MQTT-4.3.3-4]
    finish_outgoing(ack.packet_id);
    events.emplace_back(event::PublishDone{ack.packet_id, ack.reason, ack.properties});
    return;
  }
  found->second = OutgoingStep::awaiting_pubcomp;  // a repeated PUBREC gets the PUBREL again
  send_ack(mqtt::PacketType::pubrel, ack.packet_id, mqtt::ReasonCode::success, now);
}

void Session::on_pubrel(const mqtt::Ack& ack, TimePoint now, std::vector<Event>& events) {
  // [MQTT-4.3.3-11]: PUBCOMP answers every PUBREL, known or not.
  auto found = incoming_qos2_.find(ack.packet_id);
  const bool known = found != incoming_qos2_.end();
  if (known) {
    events.emplace_back(event::Message{std::move(found->second)});
    incoming_qos2_.erase(found);
  }
  send_ack(mqtt::PacketType::pubcomp, ack.packet_id,
           known ? mqtt::ReasonCode::success : mqtt::ReasonCode::packet_identifier_not_found, now);
}

void Session::on_pubcomp(const mqtt::Ack& ack, std::vector<Event>& events) {
  auto found = outgoing_.find(ack.packet_id);
  if (found == outgoing_.end() || found->second != OutgoingStep::awaiting_pubcomp) {
    log::debug("ignoring PUBCOMP for unknown packet id {}", ack.packet_id);
    return;
  }
  finish_outgoing(ack.packet_id);
  events.emplace_back(event::PublishDone{ack.packet_id, ack.reason, ack.properties});
}

void Session::on_request_ack(uint16_t packet_id, Event event, std::vector<Event>& events) {
  if (requests_.erase(packet_id) == 0) {
    log::debug("ignoring acknowledgement for unknown packet id {}", packet_id);
    return;
  }
  packet_ids_.release(packet_id);
  events.push_back(std::move(event));
}

void Session::finish_outgoing(uint16_t packet_id) {
  outgoing_.erase(packet_id);
  packet_ids_.release(packet_id);
}

void Session::send_ack(mqtt::PacketType type, uint16_t packet_id, mqtt::ReasonCode reason,
                       TimePoint now) {
  send(mqtt::Ack{type, packet_id, reason, {}}, now);
}

std::optional<TimePoint> Session::next_deadline() const {
  if (state_ != SessionState::connected || keep_alive_ == 0) return std::nullopt;
  const auto period = seconds(keep_alive_);
  return ping_sent_ ? *ping_sent_ + period : last_sent_ + period;
}

ClientStatus Session::on_timer(TimePoint now) {
  auto deadline = next_deadline();
  if (!deadline || now < *deadline) return {};
  if (ping_sent_) {
    state_ = SessionState::closed;
    return client_error(ErrorKind::timeout,
                        fmt::format("no PINGRESP from the server within {} s", keep_alive_),
                        mqtt::ReasonCode::keep_alive_timeout);
  }
  send(mqtt::Pingreq{}, now);
  ping_sent_ = now;
  return {};
}

}  // namespace stellwerk::client

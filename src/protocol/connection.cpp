// The per-connection state machine (connection.h): framing, the sequence
// rules, topic aliases and keep-alive deadlines.
#include "protocol/connection.h"

#include <fmt/format.h>

#include <variant>

namespace stellwerk::protocol {
namespace {

using mqtt::ReasonCode;

Unexpected<ProtocolError> error(ReasonCode reason, std::string why) {
  return fail(ProtocolError{reason, std::move(why)});
}

// Consumed input buffers, kept per thread for the next connection that
// reads. Each buffer is given up once everything in it is consumed (an idle
// connection holds none), so without these every read of a busy connection
// allocated and freed one (docs/performance.md, allocations per delivery).
constexpr size_t kSpareInputs = 64;
constexpr size_t kSpareInputCapacity = 64 * 1024;
thread_local std::vector<std::vector<uint8_t>> spare_inputs;

}  // namespace

Connection::Connection(Limits limits, TimePoint opened_at)
    : limits_(limits), opened_at_(opened_at), last_received_(opened_at) {}

void Connection::feed(std::span<const uint8_t> bytes) {
  if (input_.capacity() == 0 && !spare_inputs.empty()) {
    input_.swap(spare_inputs.back());
    spare_inputs.pop_back();
  }
  input_.insert(input_.end(), bytes.begin(), bytes.end());
}

void Connection::compact_input() {
  if (input_offset_ == input_.size()) {
    // Given up rather than kept: an idle connection holds no buffer.
    input_.clear();
    if (input_.capacity() != 0 && input_.capacity() <= kSpareInputCapacity && spare_inputs.size() < kSpareInputs) {
      spare_inputs.emplace_back().swap(input_);
    }
    std::vector<uint8_t>().swap(input_);
    input_offset_ = 0;
  } else if (input_offset_ > 64 * 1024 && input_offset_ * 2 > input_.size()) {
    input_.erase(input_.begin(), input_.begin() + static_cast<ptrdiff_t>(input_offset_));
    input_offset_ = 0;
  }
}

Result<std::optional<mqtt::Packet>, ProtocolError> Connection::next_packet(TimePoint now) {
  if (phase_ == Phase::closed) return std::optional<mqtt::Packet>{};
  std::span<const uint8_t> pending = std::span<const uint8_t>(input_).subspan(input_offset_);
  const mqtt::FrameScan scan = mqtt::scan_frame(pending);
  if (scan.status == mqtt::FrameStatus::malformed) {
    return error(ReasonCode::malformed_packet, "malformed fixed header");
  }
  // The size is judged as soon as the fixed header is whole, so a claimed
  // length is refused before its bytes are buffered.
  const bool header_known = scan.header.header_size != 0;
  if (header_known && scan.header.total_size() > limits_.max_packet_size) {
    return error(ReasonCode::packet_too_large,
                 fmt::format("packet of {} bytes exceeds maximum packet size {}",
                             scan.header.total_size(), limits_.max_packet_size));
  }
  if (scan.status == mqtt::FrameStatus::need_more) {
    compact_input();
    return std::optional<mqtt::Packet>{};
  }
  auto frame = pending.first(scan.header.total_size());
  input_offset_ += frame.size();
  last_received_ = now;
  auto decoded = mqtt::decode_packet(frame, version_);
  compact_input();
  if (!decoded) {
    ProtocolError failure{decoded.error().reason, decoded.error().why};
    if (phase_ == Phase::awaiting_connect) {
      failure.refuse_connect = decoded.error().reason == ReasonCode::unsupported_protocol_version;
      const uint8_t level = decoded.error().connect_protocol_level;
      failure.connack_version = level == 5 ? mqtt::Version::v5 : mqtt::Version::v311;
      if (level == 5) version_ = mqtt::Version::v5;
    }
    return fail(std::move(failure));
  }
  return check_sequence(std::move(decoded).value());
}

std::optional<mqtt::Ack> Connection::next_short_ack(TimePoint now) {
  constexpr size_t kShortAckSize = 4;  // fixed header (2) + packet id (2)
  if (phase_ != Phase::connected || input_.size() - input_offset_ < kShortAckSize) return std::nullopt;
  const uint8_t* frame = input_.data() + input_offset_;
  if (frame[1] != 2) return std::nullopt;
  const auto type = static_cast<mqtt::PacketType>(frame[0] >> 4);
  const uint8_t flags = frame[0] & 0x0F;
  const bool is_ack = type == mqtt::PacketType::puback || type == mqtt::PacketType::pubrec ||
                      type == mqtt::PacketType::pubcomp || type == mqtt::PacketType::pubrel;
  // PUBREL's reserved flags are 0010, the others' 0000 [MQTT-3.6.1-1].
  const uint8_t required_flags = type == mqtt::PacketType::pubrel ? 0x02 : 0x00;
  const uint16_t packet_id = static_cast<uint16_t>(frame[2] << 8 | frame[3]);
  if (!is_ack || flags != required_flags || packet_id == 0) return std::nullopt;
  input_offset_ += kShortAckSize;
  last_received_ = now;
  compact_input();
  return mqtt::Ack{type, packet_id, ReasonCode::success, {}};
}

bool Connection::next_publish(TimePoint now, mqtt::PublishFrame& out) {
  // The previous PUBLISH's views are done with: its bytes may go now.
  compact_input();
  if (phase_ != Phase::connected) return false;
  const std::span<const uint8_t> pending = std::span<const uint8_t>(input_).subspan(input_offset_);
  const mqtt::FrameScan scan = mqtt::scan_frame(pending);
  if (scan.status != mqtt::FrameStatus::complete || scan.header.type != mqtt::PacketType::publish) return false;
  if (scan.header.total_size() > limits_.max_packet_size) return false;
  const auto frame = pending.first(scan.header.total_size());
  if (!mqtt::decode_publish_frame(frame, version_, out).ok()) return false;
  const std::optional<uint16_t> alias = out.properties ? out.properties->topic_alias : std::nullopt;
  std::string_view topic;
  if (resolve_alias(out.topic, alias, topic)) return false;
  out.topic = topic;
  if (out.properties) out.properties->topic_alias.reset();
  // Consumed, but not compacted: `out` borrows the buffer until the next call.
  input_offset_ += frame.size();
  last_received_ = now;
  return true;
}

Result<std::optional<mqtt::Packet>, ProtocolError> Connection::check_sequence(mqtt::Packet packet) {
  const bool is_connect = std::holds_alternative<mqtt::Connect>(packet);
  const auto type = mqtt::packet_type(packet);
  if (phase_ == Phase::awaiting_connect && !is_connect && !connect_received_) {
    return error(ReasonCode::protocol_error, "first packet is not CONNECT [MQTT-3.1.0-1]");
  }
  if ((phase_ == Phase::connected || connect_received_) && is_connect) {
    return error(ReasonCode::protocol_error, "second CONNECT [MQTT-3.1.0-2]");
  }
  // Packets are read between CONNECT and CONNACK only while an enhanced
  // authentication exchange runs.
  if (phase_ == Phase::awaiting_connect && connect_received_ && type != mqtt::PacketType::auth &&
      type != mqtt::PacketType::disconnect) {
    return error(
        ReasonCode::protocol_error,
        fmt::format("{} before CONNACK during authentication [MQTT-3.1.2-30]", mqtt::packet_type_name(type)));
  }
  if (is_connect) {
    version_ = std::get<mqtt::Connect>(packet).version;
    connect_received_ = true;
    return std::optional<mqtt::Packet>(std::move(packet));
  }
  if (type == mqtt::PacketType::connack || type == mqtt::PacketType::suback ||
      type == mqtt::PacketType::unsuback || type == mqtt::PacketType::pingresp) {
    return error(ReasonCode::protocol_error,
                 fmt::format("client sent {}, a server-to-client packet", mqtt::packet_type_name(type)));
  }
  if (auto* publish = std::get_if<mqtt::Publish>(&packet)) {
    if (auto failure = resolve_inbound_alias(*publish)) return fail(std::move(*failure));
  }
  return std::optional<mqtt::Packet>(std::move(packet));
}

std::optional<ProtocolError> Connection::resolve_inbound_alias(mqtt::Publish& publish) {
  std::string_view topic;
  if (auto failure = resolve_alias(publish.topic, publish.properties.topic_alias, topic)) return failure;
  publish.properties.topic_alias.reset();
  if (publish.topic.empty()) publish.topic = topic;
  return std::nullopt;
}

// The topic a PUBLISH names: its own (remembered under its alias, if it
// carries one) or the one its alias stands for. On an error nothing changes.
std::optional<ProtocolError> Connection::resolve_alias(std::string_view topic, std::optional<uint16_t> alias,
                                                       std::string_view& resolved) {
  if (!alias) {
    if (topic.empty()) return ProtocolError{ReasonCode::protocol_error, "empty topic without alias"};
    resolved = topic;
    return std::nullopt;
  }
  if (*alias == 0 || *alias > limits_.topic_alias_maximum) {
    return ProtocolError{ReasonCode::topic_alias_invalid,
                         fmt::format("topic alias {} outside 1..{} [MQTT-3.3.2-8]", *alias,
                                     limits_.topic_alias_maximum)};
  }
  if (!topic.empty()) {
    aliases().inbound[*alias] = topic;
    resolved = topic;
    return std::nullopt;
  }
  auto it = aliases().inbound.find(*alias);
  if (it == aliases().inbound.end()) {
    return ProtocolError{ReasonCode::protocol_error, fmt::format("unknown topic alias {}", *alias)};
  }
  resolved = it->second;
  return std::nullopt;
}

Connection::TopicAliases& Connection::aliases() {
  if (!aliases_) aliases_ = std::make_unique<TopicAliases>();
  return *aliases_;
}

void Connection::accept_connect(const mqtt::Connect& connect, uint16_t effective_keep_alive) {
  phase_ = Phase::connected;
  version_ = connect.version;
  keep_alive_ = effective_keep_alive;
  const auto& props = connect.properties;
  if (!is_v5()) return;
  if (props.maximum_packet_size) client_max_packet_size_ = *props.maximum_packet_size;
  if (props.receive_maximum) client_receive_maximum_ = *props.receive_maximum;
  if (props.topic_alias_maximum) client_topic_alias_maximum_ = *props.topic_alias_maximum;
  if (props.request_problem_information) {
    request_problem_information_ = *props.request_problem_information != 0;
  }
}

std::optional<TimePoint> Connection::deadline(Duration connect_timeout) const {
  if (phase_ == Phase::awaiting_connect) return opened_at_ + connect_timeout;
  if (keep_alive_ == 0) return std::nullopt;
  // [MQTT-3.1.2-24] (3.1.1) / [MQTT-3.1.2-22] (v5): one and a half times the keep alive.
  return last_received_ + std::chrono::milliseconds(uint64_t{keep_alive_} * 1500);
}

std::optional<std::pair<std::string, uint16_t>> Connection::apply_outbound_alias(mqtt::Publish& publish) {
  if (client_topic_alias_maximum_ == 0 || publish.topic.empty()) return std::nullopt;
  auto& outbound = aliases().outbound;
  auto it = outbound.find(publish.topic);
  if (it != outbound.end()) {
    publish.properties.topic_alias = it->second;
    publish.topic.clear();
    return std::nullopt;
  }
  // Aliases are handed out until the client's maximum; later topics go in full.
  if (outbound.size() >= client_topic_alias_maximum_) return std::nullopt;
  const auto alias = static_cast<uint16_t>(outbound.size() + 1);
  publish.properties.topic_alias = alias;
  return std::make_pair(publish.topic, alias);
}

void Connection::strip_optional_properties(mqtt::Packet& packet) {
  std::visit(
      [](auto& p) {
        if constexpr (requires { p.properties; }) {
          p.properties.reason_string.reset();
          p.properties.user_properties.clear();
        }
      },
      packet);
}

bool Connection::encode(mqtt::Packet packet, std::string& out) {
  std::optional<std::pair<std::string, uint16_t>> new_alias;
  if (auto* publish = std::get_if<mqtt::Publish>(&packet)) {
    if (is_v5()) new_alias = apply_outbound_alias(*publish);
  } else if (!request_problem_information_) {
    // [MQTT-3.1.2-29]: no Reason String or User Properties except on
    // PUBLISH, CONNACK and DISCONNECT when the client asked for none.
    const auto type = mqtt::packet_type(packet);
    if (type != mqtt::PacketType::connack && type != mqtt::PacketType::disconnect) {
      strip_optional_properties(packet);
    }
  }
  size_t size = mqtt::encoded_size(packet, version_);
  if (size > client_max_packet_size_ && !std::holds_alternative<mqtt::Publish>(packet)) {
    strip_optional_properties(packet);
    size = mqtt::encoded_size(packet, version_);
  }
  // [MQTT-3.1.2-25]: a PUBLISH too large for the client is dropped as if sent.
  if (size > client_max_packet_size_) return false;
  // The alias is remembered only once the packet that introduces it goes out.
  if (new_alias) aliases().outbound.insert(std::move(*new_alias));
  mqtt::encode(packet, version_, out);
  return true;
}

}  // namespace stellwerk::protocol

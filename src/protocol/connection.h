// The per-connection MQTT state machine: bytes in, packets out.
//
// It frames and decodes what the client sends, enforces the rules that span
// packets on one network connection (CONNECT first and once, only AUTH or
// DISCONNECT between CONNECT and CONNACK, the maximum
// packet size, inbound topic aliases, keep-alive deadlines), and encodes what
// the broker sends (outbound topic aliases, the client's maximum packet size).
// It does no I/O and reads no clock: time comes in as `now`, deadlines go out
// as values (DESIGN.md, principle 1).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "base/clock.h"
#include "base/result.h"
#include "mqtt/codec.h"
#include "mqtt/packet.h"

namespace stellwerk::protocol {

struct ProtocolError {
  mqtt::ReasonCode reason = mqtt::ReasonCode::protocol_error;
  std::string why;
  // The CONNECT carried an unsupported or malformed protocol version: the
  // answer is a CONNACK (in the version below), not a DISCONNECT.
  bool refuse_connect = false;
  mqtt::Version connack_version = mqtt::Version::v311;
};

struct Limits {
  uint32_t max_packet_size = 1024 * 1024;  // inbound, what we accept
  uint16_t topic_alias_maximum = 10;       // inbound aliases we accept (v5)
  uint16_t receive_maximum = 65535;        // inbound QoS 2 we hold unreleased
};

enum class Phase : uint8_t { awaiting_connect, connected, closed };

class Connection {
 public:
  explicit Connection(Limits limits, TimePoint opened_at);

  // Appends received bytes. The buffer stays bounded because next_packet()
  // refuses a frame larger than the maximum packet size as soon as its fixed
  // header arrives, and the caller drains every complete packet after feed().
  void feed(std::span<const uint8_t> bytes);

  // The next complete packet, nullopt when more bytes are needed, or the error
  // that must end the connection. PUBLISH topic aliases are already resolved.
  Result<std::optional<mqtt::Packet>, ProtocolError> next_packet(TimePoint now);

  // The common case of QoS 1/2 traffic, without building an mqtt::Packet: when
  // the next complete frame is a two-byte PUBACK, PUBREC, PUBREL or PUBCOMP
  // (no reason code, no properties) on a connected session, it is consumed
  // and returned. Anything else, including a malformed ack, is left for
  // next_packet(), which decodes and judges it.
  std::optional<mqtt::Ack> next_short_ack(TimePoint now);

  // The common case of inbound traffic, without building an mqtt::Packet:
  // when the next complete frame is a PUBLISH on a connected session, within
  // the maximum packet size, well-formed and with a topic alias (if any) that
  // resolves, it is consumed into `out` and true is returned. `out`'s topic
  // and payload point into this connection's input buffer (or its alias
  // table) and stay valid until the next call of feed(), next_packet(),
  // next_short_ack() or next_publish(). Anything else, a PUBLISH that breaks
  // a rule included, is left for next_packet(), which decodes and judges it
  // exactly as before: the fast path never decides an error itself.
  [[nodiscard]] bool next_publish(TimePoint now, mqtt::PublishFrame& out);

  // Called by the broker once it accepted the CONNECT.
  void accept_connect(const mqtt::Connect& connect, uint16_t effective_keep_alive);

  Phase phase() const { return phase_; }
  void mark_closed() { phase_ = Phase::closed; }
  mqtt::Version version() const { return version_; }
  bool is_v5() const { return version_ == mqtt::Version::v5; }
  uint16_t keep_alive() const { return keep_alive_; }

  // When the connection must be dropped for silence: 1.5 keep-alive after
  // the last packet, or the CONNECT timeout before CONNECT. nullopt = never.
  std::optional<TimePoint> deadline(Duration connect_timeout) const;

  // Client limits from its CONNECT (v5), applied to what we send.
  uint32_t client_max_packet_size() const { return client_max_packet_size_; }
  uint16_t client_receive_maximum() const { return client_receive_maximum_; }
  bool client_wants_problem_info() const { return request_problem_information_; }
  // True when a PUBLISH goes out exactly as mqtt::encode writes it for this
  // version: there are no outbound topic aliases to apply.
  bool sends_publish_verbatim() const { return !is_v5() || client_topic_alias_maximum_ == 0; }

  // Encodes `packet` for this connection's version into `out`. For PUBLISH an
  // outbound topic alias is applied when the client allows aliases. Returns
  // false (and appends nothing) when the packet exceeds the client's Maximum
  // Packet Size even after dropping optional properties [MQTT-3.1.2-24].
  [[nodiscard]] bool encode(mqtt::Packet packet, std::string& out);

  size_t buffered_bytes() const { return input_.size() - input_offset_; }

 private:
  Result<std::optional<mqtt::Packet>, ProtocolError> check_sequence(mqtt::Packet packet);
  std::optional<ProtocolError> resolve_inbound_alias(mqtt::Publish& publish);
  std::optional<ProtocolError> resolve_alias(std::string_view topic, std::optional<uint16_t> alias,
                                             std::string_view& resolved);
  std::optional<std::pair<std::string, uint16_t>> apply_outbound_alias(mqtt::Publish& publish);
  static void strip_optional_properties(mqtt::Packet& packet);
  void compact_input();

  // One per connection, so the members are ordered to leave no padding.
  Limits limits_;
  TimePoint opened_at_;
  TimePoint last_received_;

  // Bytes received and not yet consumed. Given back to the allocator as
  // soon as everything is consumed: an idle connection holds no buffer.
  std::vector<uint8_t> input_;
  size_t input_offset_ = 0;

  uint32_t client_max_packet_size_ = mqtt::kMaxRemainingLength + 5;
  uint16_t keep_alive_ = 0;
  uint16_t client_receive_maximum_ = 65535;
  uint16_t client_topic_alias_maximum_ = 0;
  Phase phase_ = Phase::awaiting_connect;
  mqtt::Version version_ = mqtt::Version::v311;
  bool connect_received_ = false;  // CONNECT decoded; CONNACK may still be pending
  bool request_problem_information_ = true;

  struct TopicAliases {
    std::unordered_map<uint16_t, std::string> inbound;
    std::unordered_map<std::string, uint16_t> outbound;
  };
  // Made on first use: most clients use no aliases, and an idle connection
  // should not carry two empty maps.
  TopicAliases& aliases();
  std::unique_ptr<TopicAliases> aliases_;
};

}  // namespace stellwerk::protocol

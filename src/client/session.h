// The client side of one MQTT connection as a state machine: bytes in, events
// and bytes out. It owns no socket and reads no clock, so the blocking client
// used by `stellwerk pub` / `sub` and an event-driven load generator can share
// it, and the unit tests can drive it packet by packet.
//
// What it keeps per connection:
//   - packet ids for what the client sends, held until the flow completes;
//   - outgoing QoS 1 (PUBLISH -> PUBACK) and QoS 2 (PUBLISH -> PUBREC ->
//     PUBREL -> PUBCOMP) flows, bounded by the server's Receive Maximum;
//   - incoming QoS 2 messages between PUBREC and PUBREL: a message is handed
//     out when PUBREL arrives, as mosquitto's clients do, so a re-sent
//     PUBLISH is never delivered twice and a tool that exits after its last
//     message has finished every flow;
//   - topic aliases in both directions (v5);
//   - the keep-alive timer: the caller asks next_deadline() and calls
//     on_timer() when it passes.
// Nothing is kept across connections: the tools never resume a session, and
// a new connect() starts from scratch.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <variant>
#include <vector>

#include "base/clock.h"
#include "client/error.h"
#include "client/packet_ids.h"
#include "client/topic_alias.h"
#include "mqtt/packet.h"

namespace stellwerk::client {

namespace event {
// The server accepted the connection.
struct Connected {
  mqtt::Connack connack;
};
// An application message for us; the topic is resolved if it came as an alias.
struct Message {
  mqtt::Publish publish;
};
// A QoS 1/2 PUBLISH we sent has finished its flow (PUBACK, PUBCOMP, or a PUBREC
// with a failure code). `reason` >= 0x80 means the server did not accept it.
struct PublishDone {
  uint16_t packet_id = 0;
  mqtt::ReasonCode reason = mqtt::ReasonCode::success;
  mqtt::Properties properties;
};
struct Subscribed {
  mqtt::Suback suback;
};
struct Unsubscribed {
  mqtt::Unsuback unsuback;
};
struct PingAnswered {};
}  // namespace event

using Event = std::variant<event::Connected, event::Message, event::PublishDone, event::Subscribed,
                           event::Unsubscribed, event::PingAnswered>;

enum class SessionState { idle, connecting, connected, closed };

// What CONNACK allows the client to send (v5 section 3.2.2.3); the defaults
// are what holds when the server says nothing, and for 3.1.x.
struct ServerLimits {
  uint16_t receive_maximum = 65535;
  mqtt::QoS maximum_qos = mqtt::QoS::exactly_once;
  bool retain_available = true;
  uint32_t maximum_packet_size = 0;  // 0 = no limit
  uint16_t topic_alias_maximum = 0;
};

enum class Direction { sent, received };
// Sees every packet the session encodes or decodes (for `-d` traces).
using PacketObserver = std::function<void(Direction, const mqtt::Packet&)>;

struct SessionOptions {
  // Replace repeated topics by aliases when the server allows it (v5).
  bool use_topic_aliases = false;
};

class Session {
 public:
  explicit Session(SessionOptions options = {});

  // Starts a connection: queues CONNECT and forgets everything from an
  // earlier one. Fails when `connect` is invalid for its version.
  ClientStatus connect(mqtt::Connect connect, TimePoint now);

  // Queues a PUBLISH and returns its packet id (0 for QoS 0). Fails when the
  // server's limits forbid it (QoS, retain, packet size, Receive Maximum:
  // check can_publish() first), the topic is invalid or not connected.
  ClientResult<uint16_t> publish(mqtt::Publish message, TimePoint now);
  // Queue SUBSCRIBE / UNSUBSCRIBE with a fresh packet id, which they return.
  ClientResult<uint16_t> subscribe(mqtt::Subscribe request, TimePoint now);
  ClientResult<uint16_t> unsubscribe(mqtt::Unsubscribe request, TimePoint now);
  // Queues DISCONNECT; the caller closes the socket once output is sent.
  void disconnect(mqtt::Disconnect request, TimePoint now);

  // Feeds bytes read from the socket. Complete packets become `events` and
  // answers in output(). An error means the connection is over (any
  // DISCONNECT owed to the server is already queued).
  ClientStatus receive(std::span<const uint8_t> bytes, TimePoint now, std::vector<Event>& events);

  // When on_timer() must run next (keep-alive); nullopt = no timer.
  std::optional<TimePoint> next_deadline() const;
  // Sends PINGREQ when the connection was quiet for a keep-alive period
  // (v5 [MQTT-3.1.2-20]); fails when the previous PINGREQ got no answer in one.
  ClientStatus on_timer(TimePoint now);

  // Bytes to write to the socket, in order.
  const std::string& output() const { return output_; }
  void consume_output(size_t count) { output_.erase(0, count); }

  SessionState state() const { return state_; }
  mqtt::Version version() const { return version_; }
  const ServerLimits& server_limits() const { return limits_; }
  // The client id in use: the one sent, or the one the server assigned (v5).
  const std::string& client_id() const { return client_id_; }
  uint16_t keep_alive() const { return keep_alive_; }
  // QoS 1/2 publishes sent and not yet finished.
  size_t publishes_in_flight() const { return outgoing_.size(); }
  // Whether a QoS 1/2 publish fits in the server's Receive Maximum now.
  bool can_publish() const { return outgoing_.size() < limits_.receive_maximum; }
  // SUBSCRIBE / UNSUBSCRIBE sent and not yet acknowledged.
  size_t requests_pending() const { return requests_.size(); }

  void set_observer(PacketObserver observer) { observer_ = std::move(observer); }

 private:
  enum class OutgoingStep : uint8_t { awaiting_puback, awaiting_pubrec, awaiting_pubcomp };

  void send(const mqtt::Packet& packet, TimePoint now);
  ClientStatus fail_connection(mqtt::ReasonCode reason, std::string why, TimePoint now);
  ClientStatus check_publish(const mqtt::Publish& message) const;
  ClientStatus check_size(const mqtt::Packet& packet) const;
  ClientStatus handle(mqtt::Packet packet, TimePoint now, std::vector<Event>& events);
  ClientStatus on_connack(mqtt::Connack connack, std::vector<Event>& events);
  ClientStatus on_publish(mqtt::Publish publish, TimePoint now, std::vector<Event>& events);
  ClientStatus on_ack(const mqtt::Ack& ack, TimePoint now, std::vector<Event>& events);
  void on_puback(const mqtt::Ack& ack, std::vector<Event>& events);
  void on_pubrec(const mqtt::Ack& ack, TimePoint now, std::vector<Event>& events);
  void on_pubrel(const mqtt::Ack& ack, TimePoint now, std::vector<Event>& events);
  void on_pubcomp(const mqtt::Ack& ack, std::vector<Event>& events);
  void on_request_ack(uint16_t packet_id, Event event, std::vector<Event>& events);
  void finish_outgoing(uint16_t packet_id);
  void send_ack(mqtt::PacketType type, uint16_t packet_id, mqtt::ReasonCode reason, TimePoint now);

  SessionOptions options_;
  SessionState state_ = SessionState::idle;
  mqtt::Version version_ = mqtt::Version::v311;
  std::string client_id_;
  uint16_t keep_alive_ = 0;
  uint32_t own_maximum_packet_size_ = 0;  // what we told the server; 0 = no limit
  ServerLimits limits_;
  PacketIds packet_ids_;
  std::unordered_map<uint16_t, OutgoingStep> outgoing_;
  std::unordered_set<uint16_t> requests_;  // SUBSCRIBE / UNSUBSCRIBE ids
  // PUBREC sent, PUBREL not yet seen. Bounded by the server's in-flight
  // window, which our Receive Maximum (default 65,535) limits.
  std::unordered_map<uint16_t, mqtt::Publish> incoming_qos2_;
  OutgoingTopicAliases outgoing_aliases_;
  IncomingTopicAliases incoming_aliases_;
  TimePoint last_sent_{};
  std::optional<TimePoint> ping_sent_;
  std::string input_;
  std::string output_;
  PacketObserver observer_;
};

}  // namespace stellwerk::client

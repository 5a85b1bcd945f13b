// Drives a Broker in-process: clients are ids, packets go in encoded and come
// out decoded, time is a FakeClock. No sockets, no threads.
#pragma once

#include <gtest/gtest.h>

#include <map>
#include <set>
#include <string>
#include <vector>

#include "broker/broker.h"
#include "mqtt/codec.h"

namespace stellwerk::broker::testing {

class RecordingOutbox final : public Outbox {
 public:
  void send(ConnectionId id, std::string_view bytes, bool) override { output[id] += bytes; }
  void close(ConnectionId id) override { closed.insert(id); }
  std::map<ConnectionId, std::string> output;
  std::set<ConnectionId> closed;
};

class BrokerHarness {
 public:
  explicit BrokerHarness(BrokerConfig config = {}, AccessControl* access = nullptr)
      : broker(std::move(config), outbox, clock.now(), access) {}

  // Opens connection `id` and sends CONNECT; returns the packets the broker answered with.
  std::vector<mqtt::Packet> connect(ConnectionId id, mqtt::Connect connect) {
    versions[id] = connect.version;
    broker.on_open(id, "test:" + std::to_string(id), clock.now());
    return send(id, mqtt::Packet(std::move(connect)));
  }

  std::vector<mqtt::Packet> connect(ConnectionId id, const std::string& client_id, mqtt::Version version,
                                    bool clean = true) {
    mqtt::Connect c;
    c.client_id = client_id;
    c.version = version;
    c.protocol_name = version == mqtt::Version::v31 ? "MQIsdp" : "MQTT";
    c.clean_start = clean;
    return connect(id, std::move(c));
  }

  std::vector<mqtt::Packet> send(ConnectionId id, const mqtt::Packet& packet) {
    std::string bytes;
    mqtt::encode(packet, versions[id], bytes);
    return send_raw(id, bytes);
  }

  std::vector<mqtt::Packet> send_raw(ConnectionId id, const std::string& bytes) {
    broker.on_data(id, std::span(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()), clock.now());
    return take(id);
  }

  // Decodes and clears what the broker sent to `id` so far.
  std::vector<mqtt::Packet> take(ConnectionId id) {
    std::vector<mqtt::Packet> packets;
    std::string& out = outbox.output[id];
    size_t offset = 0;
    while (offset < out.size()) {
      std::span<const uint8_t> rest(reinterpret_cast<const uint8_t*>(out.data()) + offset, out.size() - offset);
      auto scan = mqtt::scan_frame(rest);
      EXPECT_EQ(scan.status, mqtt::FrameStatus::complete);
      if (scan.status != mqtt::FrameStatus::complete) break;
      auto decoded = server_packet(rest.first(scan.header.total_size()), versions[id]);
      offset += scan.header.total_size();
      if (decoded) packets.push_back(std::move(*decoded));
    }
    out.clear();
    return packets;
  }

  void advance(Duration by) {
    clock.advance(by);
    broker.tick(clock.now());
  }

  bool closed(ConnectionId id) const { return outbox.closed.count(id) > 0; }

  FakeClock clock;
  RecordingOutbox outbox;
  std::map<ConnectionId, mqtt::Version> versions;
  Broker broker;

 private:
  // Server-to-client packets decode with the same codec.
  static std::optional<mqtt::Packet> server_packet(std::span<const uint8_t> frame, mqtt::Version version) {
    auto decoded = mqtt::decode_packet(frame, version);
    EXPECT_TRUE(decoded.ok()) << (decoded.ok() ? "" : decoded.error().why);
    if (!decoded) return std::nullopt;
    return std::move(decoded).value();
  }
};

template <typename T>
const T& as(const mqtt::Packet& packet) {
  EXPECT_TRUE(std::holds_alternative<T>(packet)) << "got " << mqtt::packet_type_name(mqtt::packet_type(packet));
  static const T empty{};
  return std::holds_alternative<T>(packet) ? std::get<T>(packet) : empty;
}

inline mqtt::Publish publish(const std::string& topic, const std::string& payload, mqtt::QoS qos = mqtt::QoS::at_most_once,
                             uint16_t packet_id = 0, bool retain = false) {
  mqtt::Publish p;
  p.topic = topic;
  p.payload = payload;
  p.qos = qos;
  p.packet_id = packet_id;
  p.retain = retain;
  return p;
}

inline mqtt::Subscribe subscribe(uint16_t packet_id, const std::string& filter, mqtt::QoS qos = mqtt::QoS::at_most_once) {
  mqtt::Subscribe s;
  s.packet_id = packet_id;
  s.topics.push_back({filter, mqtt::SubscriptionOptions{qos}});
  return s;
}

}  // namespace stellwerk::broker::testing

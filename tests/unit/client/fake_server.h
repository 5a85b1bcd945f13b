// The server's end of a client Session in unit tests: decodes what the
// session queued to send, and encodes packets as a server would to feed them
// back. No sockets; time is whatever TimePoint the test passes.
#pragma once

#include <gtest/gtest.h>

#include <span>
#include <string>
#include <vector>

#include "client/session.h"
#include "mqtt/codec.h"

namespace stellwerk::client::testing {

inline TimePoint start_time() { return TimePoint(std::chrono::hours(1)); }

class FakeServer {
 public:
  explicit FakeServer(Session& session) : session_(session) {}

  // Every packet the session queued since the last call, decoded.
  std::vector<mqtt::Packet> take_sent() {
    std::vector<mqtt::Packet> packets;
    const std::string& out = session_.output();
    std::span<const uint8_t> rest(reinterpret_cast<const uint8_t*>(out.data()), out.size());
    while (!rest.empty()) {
      const mqtt::FrameScan scan = mqtt::scan_frame(rest);
      if (scan.status != mqtt::FrameStatus::complete) {
        ADD_FAILURE() << "session output is not whole packets";
        break;
      }
      auto packet = mqtt::decode_packet(rest.first(scan.header.total_size()), session_.version());
      if (!packet) {
        ADD_FAILURE() << "session sent an undecodable packet: " << packet.error().why;
        break;
      }
      packets.push_back(std::move(packet).value());
      rest = rest.subspan(scan.header.total_size());
    }
    session_.consume_output(out.size());
    return packets;
  }

  // The one packet the session sent since the last call (fails otherwise).
  mqtt::Packet take_one() {
    auto packets = take_sent();
    if (packets.size() != 1) {
      ADD_FAILURE() << "expected one packet, session sent " << packets.size();
      return mqtt::Pingreq{};
    }
    return std::move(packets.front());
  }

  static std::string bytes_of(const mqtt::Packet& packet, mqtt::Version version) {
    std::string bytes;
    mqtt::encode(packet, version, bytes);
    return bytes;
  }

  // Feeds raw bytes; the events land in events().
  ClientStatus feed(const std::string& bytes, TimePoint now = start_time()) {
    return session_.receive(std::span(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()),
                            now, events_);
  }

  // Encodes `packet` for the session's version and feeds it.
  ClientStatus deliver(const mqtt::Packet& packet, TimePoint now = start_time()) {
    return feed(bytes_of(packet, session_.version()), now);
  }

  std::vector<Event>& events() { return events_; }
  std::vector<Event> take_events() { return std::exchange(events_, {}); }

 private:
  Session& session_;
  std::vector<Event> events_;
};

// Connects `session` with `connect` and answers with `connack`; expects success.
inline void connect_session(Session& session, FakeServer& server, mqtt::Connect connect,
                            mqtt::Connack connack = {}) {
  ASSERT_TRUE(session.connect(std::move(connect), start_time()));
  server.take_sent();
  ASSERT_TRUE(server.deliver(connack));
  server.take_events();
}

inline mqtt::Connect connect_for(mqtt::Version version, std::string client_id = "tester") {
  mqtt::Connect connect;
  connect.version = version;
  connect.client_id = std::move(client_id);
  return connect;
}

inline mqtt::Publish message(std::string topic, mqtt::QoS qos, std::string payload = "data") {
  mqtt::Publish publish;
  publish.topic = std::move(topic);
  publish.qos = qos;
  publish.payload = std::move(payload);
  return publish;
}

}  // namespace stellwerk::client::testing

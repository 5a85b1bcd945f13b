// A blocking MQTT client for the command-line tools: one TCP connection, one
// Session (the protocol logic), and calls that return when their work is done
// or their deadline passes. While a call waits, the connection is served:
// acknowledgements are sent, keep-alive PINGREQs go out, and messages that
// arrive are queued for receive().
//
// Not thread-safe; one thread drives one Client.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <optional>
#include <string>
#include <unordered_map>

#include "base/clock.h"
#include "client/error.h"
#include "client/session.h"
#include "client/tcp_socket.h"
#include "mqtt/packet.h"

namespace stellwerk::client {

struct ConnectOptions {
  std::string host = "localhost";
  uint16_t port = 1883;
  milliseconds timeout{10'000};  // TCP connect plus CONNACK
  mqtt::Connect connect;
  SessionOptions session;
};

// A deadline far enough away to mean "no deadline" without overflowing.
TimePoint no_deadline();

class Client {
 public:
  // Connects and waits for CONNACK. A refusal is an error of kind `refused`
  // whose reason is the CONNACK code.
  ClientResult<mqtt::Connack> connect(const ConnectOptions& options);

  // Sends a PUBLISH and returns its packet id (0 for QoS 0). When the
  // server's Receive Maximum is reached, first waits for a slot. Does not wait
  // for the acknowledgement: see wait_for_publishes().
  ClientResult<uint16_t> publish(mqtt::Publish message);
  // Waits until every QoS 1/2 publish has finished its flow. Fails with the
  // first publish the server rejected, or on timeout.
  ClientStatus wait_for_publishes(TimePoint deadline);

  // Subscribe / unsubscribe and wait for the acknowledgement. The reason
  // codes in the answer are the caller's to judge.
  ClientResult<mqtt::Suback> subscribe(mqtt::Subscribe request, TimePoint deadline);
  ClientResult<mqtt::Unsuback> unsubscribe(mqtt::Unsubscribe request, TimePoint deadline);

  // The next application message, or nullopt when none came by `deadline`.
  ClientResult<std::optional<mqtt::Publish>> receive(TimePoint deadline);
  // Serves the connection until `deadline` without taking messages.
  ClientStatus service(TimePoint deadline);
  // Serves the connection until `fd` (say, standard input) is readable:
  // true, or `deadline` passes: false.
  ClientResult<bool> wait_readable(int fd, TimePoint deadline);

  // Sends DISCONNECT after everything queued, then closes the socket.
  ClientStatus disconnect(mqtt::Disconnect request = {});

  // Kept across connect() calls.
  void set_observer(PacketObserver observer);
  const Session& session() const { return session_; }

 private:
  // Serves the connection until `done()` holds (true) or `deadline` (false).
  ClientResult<bool> run_until(TimePoint deadline, const std::function<bool()>& done);
  // One turn: wait for the socket, a timer or `watch_fd`, read, write, run
  // timers. Sets `*watch_ready` when `watch_fd` became readable.
  ClientStatus step(TimePoint deadline, int watch_fd = -1, bool* watch_ready = nullptr);
  ClientStatus read_available();
  ClientStatus write_available();
  ClientStatus flush(TimePoint deadline);
  void on_event(Event& event);
  // Remembers a failure: the connection is unusable from here on.
  ClientStatus broken(ClientError error);

  Session session_;
  PacketObserver observer_;
  TcpSocket socket_;
  std::optional<ClientError> broken_;
  std::optional<mqtt::Connack> connack_;
  std::deque<mqtt::Publish> messages_;
  std::unordered_map<uint16_t, mqtt::Suback> subacks_;
  std::unordered_map<uint16_t, mqtt::Unsuback> unsubacks_;
  std::optional<ClientError> publish_failure_;
  std::vector<Event> events_;  // reused between reads
};

}  // namespace stellwerk::client

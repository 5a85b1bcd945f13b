// A tiny MQTT broker on 127.0.0.1 for the runner tests, with faults to order.
//
// One thread, poll(), blocking writes (the generator under test always
// reads). It accepts every CONNECT, grants every SUBSCRIBE, acknowledges QoS 1
// and 2 publications and forwards each PUBLISH to the clients whose filter
// equals its topic or ends in "/+" and matches one more level. The faults act
// on the n-th forwarded message (counted over all subscribers): drop it, send
// it twice, hold it back until after the next one, or garble it.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "mqtt/packet.h"

namespace stellwerk::bench::testing {

struct Faults {
  uint64_t drop_every = 0;  // 0 = never
  uint64_t duplicate_every = 0;
  uint64_t swap_every = 0;
  uint64_t garble_every = 0;  // sends a PUBLISH whose topic runs past its end
};

class FakeBroker {
 public:
  explicit FakeBroker(Faults faults = {});
  ~FakeBroker();
  FakeBroker(const FakeBroker&) = delete;
  FakeBroker& operator=(const FakeBroker&) = delete;

  uint16_t port() const { return port_; }

 private:
  struct Client {
    int fd = -1;
    mqtt::Version version = mqtt::Version::v311;
    std::string input;
    std::vector<std::pair<std::string, mqtt::QoS>> filters;
    uint16_t next_packet_id = 1;
  };

  void run();
  void accept_client();
  bool read_client(Client& client);
  void handle(Client& client, mqtt::Packet& packet);
  void forward(const mqtt::Publish& publish);
  void deliver(Client& client, mqtt::Publish publish);
  void send(Client& client, const mqtt::Packet& packet);

  Faults faults_;
  int listen_fd_ = -1;
  int wake_fds_[2] = {-1, -1};
  uint16_t port_ = 0;
  std::map<int, Client> clients_;
  uint64_t forwarded_ = 0;
  bool holding_ = false;
  int held_for_ = -1;
  mqtt::Publish held_;
  std::thread thread_;
};

}  // namespace stellwerk::bench::testing

// The broker's record of one network connection. Internal to the broker.
#pragma once

#include <string>

#include "broker/broker.h"

namespace stellwerk::broker {

struct Broker::Client {
  Client(ConnectionId id, std::string peer, protocol::Limits limits, TimePoint now)
      : id(id), peer(std::move(peer)), protocol(limits, now) {}
  ConnectionId id;
  std::string peer;
  protocol::Connection protocol;
  session::Session* session = nullptr;  // set once CONNECT is accepted
  std::string client_id;                // for log lines
};

}  // namespace stellwerk::broker

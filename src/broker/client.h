// The broker's record of one network connection. Internal to the broker.
#pragma once

#include <optional>
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
  bool id_assigned = false;
  std::optional<std::string> transport_username;  // from the TLS layer             // the broker chose client_id (v5 Assigned Client Identifier)
  // A CONNECT waiting for AccessControl's verdict; input is not read meanwhile.
  std::optional<mqtt::Connect> pending_connect;
};

}  // namespace stellwerk::broker

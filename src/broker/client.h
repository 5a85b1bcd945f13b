// The broker's record of one network connection. Internal to the broker.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "base/boxed.h"
#include "broker/broker.h"

namespace stellwerk::broker {

// One per connection, so what most connections never use is kept on the
// heap and made on first use (Boxed, unique_ptr): an idle client should cost
// little more than its protocol state (docs/performance.md, memory).
struct Broker::Client {
  Client(ConnectionId id, std::string peer, protocol::Limits limits, TimePoint now)
      : id(id), peer(std::move(peer)), protocol(limits, now) {}
  ConnectionId id;
  std::string peer;
  protocol::Connection protocol;
  session::Session* session = nullptr;    // set once CONNECT is accepted
  TimePoint deadline_filed = kNotFiled;   // in Broker::connection_deadlines_
  std::string client_id;                  // for log lines
  bool id_assigned = false;               // the broker chose client_id (v5 Assigned Client Identifier)
  Boxed<std::string> transport_username;  // from the TLS layer
  // A CONNECT waiting for AccessControl's verdict; input is not read meanwhile.
  Boxed<mqtt::Connect> pending_connect;  // on the heap: 1.2 KB, rarely present

  // Enhanced authentication (enhanced_auth.cpp). The method named by the
  // CONNECT, which every AUTH must repeat; the exchange in progress, initial
  // or re-authentication; the CONNECT held while the initial exchange runs
  // (input is read meanwhile: AUTH packets carry it on); and what the
  // successful CONNACK carries back as Authentication Data.
  std::optional<std::string> auth_method;
  std::unique_ptr<AuthExchange> auth_exchange;
  Boxed<mqtt::Connect> authenticating_connect;
  Boxed<std::string> auth_success_data;
};

}  // namespace stellwerk::broker

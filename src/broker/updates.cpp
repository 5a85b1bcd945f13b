// What the server tells the broker after the fact: a configuration reload, and
// the real address of a peer that a PROXY header named.
#include "broker/broker.h"
#include "broker/client.h"

namespace stellwerk::broker {

void Broker::reconfigure(const BrokerConfig& config) {
  config_.allow_anonymous = config.allow_anonymous;
  config_.connection_messages = config.connection_messages;
  config_.max_keepalive = config.max_keepalive;
  config_.persistent_client_expiration = config.persistent_client_expiration;
  config_.sys_interval = config.sys_interval;
}

void Broker::set_peer(ConnectionId id, std::string peer) {
  if (Client* client = find_client(id)) client->peer = std::move(peer);
}

}  // namespace stellwerk::broker

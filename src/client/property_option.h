// MQTT 5 properties given on the command line, in mosquitto's syntax:
//   -D command identifier value          e.g. -D publish content-type text/plain
//   -D command user-property key value
// `command` names the packet the property goes into: connect, publish,
// subscribe, unsubscribe, disconnect or will (the will message's
// properties). Only properties a client may send in that packet are accepted
// (v5 section 2.2.2.2); values are checked against the property's type.
#pragma once

#include <string>
#include <vector>

#include "client/error.h"
#include "mqtt/packet.h"

namespace stellwerk::client {

struct PropertyOptions {
  mqtt::Properties connect;
  mqtt::Properties publish;
  mqtt::Properties subscribe;
  mqtt::Properties unsubscribe;
  mqtt::Properties disconnect;
  mqtt::Properties will;
};

// Adds one `-D` group (its 3 or 4 words after -D) to `options`.
ClientStatus add_property_option(const std::vector<std::string>& words, PropertyOptions& options);

}  // namespace stellwerk::client

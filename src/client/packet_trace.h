// One-line descriptions of packets for the tools' `-d` debug output, in the
// spirit of mosquitto's: "PUBLISH (d0, q1, r0, m1, 'a/b', ... (5 bytes))".
#pragma once

#include <string>

#include "mqtt/packet.h"

namespace stellwerk::client {

std::string describe_packet(const mqtt::Packet& packet);

}  // namespace stellwerk::client

// Packet descriptions for debug traces (see packet_trace.h). Payloads are
// never printed, only their size: they may be binary or large.
#include "client/packet_trace.h"

#include <fmt/format.h>

#include "client/overloaded.h"

namespace stellwerk::client {
namespace {

unsigned code(mqtt::ReasonCode reason) { return static_cast<unsigned>(reason); }

std::string describe_codes(const std::vector<mqtt::ReasonCode>& reasons) {
  std::string text;
  for (size_t i = 0; i < reasons.size(); ++i) {
    text += fmt::format("{}{}", i == 0 ? "" : ", ", code(reasons[i]));
  }
  return text;
}

std::string describe_subscribe(const mqtt::Subscribe& subscribe) {
  std::string text = fmt::format("SUBSCRIBE (Mid: {}", subscribe.packet_id);
  for (const auto& topic : subscribe.topics) {
    const auto& o = topic.options;
    const unsigned options = (o.no_local ? 0x04u : 0u) | (o.retain_as_published ? 0x08u : 0u) |
                             (static_cast<unsigned>(o.retain_handling) << 4);
    text += fmt::format(", Topic: {}, QoS: {}, Options: 0x{:02x}", topic.filter,
                        static_cast<int>(o.max_qos), options);
  }
  return text + ")";
}

}  // namespace

std::string describe_packet(const mqtt::Packet& packet) {
  return std::visit(
      Overloaded{
          [](const mqtt::Connect& c) {
            return fmt::format("CONNECT (id: '{}', clean: {}, keep-alive: {})", c.client_id,
                               c.clean_start ? 1 : 0, c.keep_alive);
          },
          [](const mqtt::Connack& c) {
            return fmt::format("CONNACK ({}, session present: {})", code(c.reason),
                               c.session_present ? 1 : 0);
          },
          [](const mqtt::Publish& p) {
            return fmt::format("PUBLISH (d{}, q{}, r{}, m{}, '{}', ... ({} bytes))", p.dup ? 1 : 0,
                               static_cast<int>(p.qos), p.retain ? 1 : 0, p.packet_id, p.topic,
                               p.payload.size());
          },
          [](const mqtt::Ack& a) {
            return fmt::format("{} (Mid: {}, RC: {})", mqtt::packet_type_name(a.type), a.packet_id,
                               code(a.reason));
          },
          [](const mqtt::Subscribe& s) { return describe_subscribe(s); },
          [](const mqtt::Suback& s) {
            return fmt::format("SUBACK (Mid: {}, codes: {})", s.packet_id,
                               describe_codes(s.reasons));
          },
          [](const mqtt::Unsubscribe& u) {
            return fmt::format("UNSUBSCRIBE (Mid: {}, Topics: {})", u.packet_id,
                               fmt::join(u.filters, ", "));
          },
          [](const mqtt::Unsuback& u) {
            return fmt::format("UNSUBACK (Mid: {}, codes: {})", u.packet_id,
                               describe_codes(u.reasons));
          },
          [](const mqtt::Pingreq&) { return std::string("PINGREQ"); },
          [](const mqtt::Pingresp&) { return std::string("PINGRESP"); },
          [](const mqtt::Disconnect& d) { return fmt::format("DISCONNECT ({})", code(d.reason)); },
          [](const mqtt::Auth& a) { return fmt::format("AUTH ({})", code(a.reason)); },
      },
      packet);
}

}  // namespace stellwerk::client

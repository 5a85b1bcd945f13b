#include "server/over_limit.h"

#include "mqtt/codec.h"

namespace stellwerk::server {
namespace {

OverLimitAnswer give_up(std::string why) {
  return OverLimitAnswer{OverLimitAnswer::Kind::give_up, {}, std::move(why)};
}

mqtt::Version version_of_level(uint8_t level) {
  switch (level) {
    case 3: return mqtt::Version::v31;
    case 5: return mqtt::Version::v5;
    default: return mqtt::Version::v311;  // unknown levels get the 3.1.1 form, as elsewhere
  }
}

}  // namespace

OverLimitAnswer answer_over_limit(std::span<const uint8_t> received) {
  const mqtt::FrameScan scan = mqtt::scan_frame(received);
  if (scan.status == mqtt::FrameStatus::malformed) return give_up("malformed fixed header");
  const bool header_read = scan.header.header_size != 0;  // filled in as soon as the length is whole
  if (header_read && scan.header.type != mqtt::PacketType::connect) return give_up("first packet is not CONNECT");
  if (header_read && scan.header.total_size() > kLargestRefusedConnect) return give_up("CONNECT too large");
  if (scan.status == mqtt::FrameStatus::need_more) return {};
  auto decoded = mqtt::decode_packet(received.first(scan.header.total_size()), mqtt::Version::v311);
  mqtt::Version version = mqtt::Version::v311;
  if (decoded) {
    version = std::get<mqtt::Connect>(decoded.value()).version;
  } else if (decoded.error().connect_protocol_level != 0) {
    version = version_of_level(decoded.error().connect_protocol_level);
  } else {
    return give_up("malformed CONNECT");
  }
  mqtt::Connack connack;
  connack.reason = mqtt::ReasonCode::quota_exceeded;
  OverLimitAnswer answer{OverLimitAnswer::Kind::connack, {}, {}};
  mqtt::encode(connack, version, answer.bytes);
  return answer;
}

}  // namespace stellwerk::server

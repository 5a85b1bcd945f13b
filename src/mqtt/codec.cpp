// Framing and variable byte integers (v5 1.5.5 / 3.1.1 2.2.3). scan_frame is
// the first of the two decoding steps described in codec.h: it reads only the
// fixed header, so a connection can tell "wait for more bytes" from "close"
// before anything is allocated for the packet.
#include "mqtt/codec.h"

namespace stellwerk::mqtt {

FrameScan scan_frame(std::span<const uint8_t> bytes) {
  FrameScan scan;
  if (bytes.empty()) return scan;
  uint8_t type = bytes[0] >> 4;
  if (type == 0) {
    scan.status = FrameStatus::malformed;  // 0 is reserved in every version
    return scan;
  }
  uint32_t length = 0;
  for (size_t i = 0; i < 4; ++i) {
    if (1 + i >= bytes.size()) return scan;  // need_more
    uint8_t byte = bytes[1 + i];
    length |= uint32_t{byte & 0x7Fu} << (7 * i);
    if (byte & 0x80) continue;
    scan.header = FrameHeader{static_cast<PacketType>(type), static_cast<uint8_t>(bytes[0] & 0x0F),
                              length, static_cast<uint8_t>(2 + i)};
    bool whole = scan.header.total_size() <= bytes.size();
    scan.status = whole ? FrameStatus::complete : FrameStatus::need_more;
    return scan;
  }
  scan.status = FrameStatus::malformed;  // a fifth length byte
  return scan;
}

void encode_varint(uint32_t value, std::string& out) {
  do {
    uint8_t byte = value & 0x7F;
    value >>= 7;
    out.push_back(static_cast<char>(value ? byte | 0x80 : byte));
  } while (value);
}

size_t varint_size(uint32_t value) {
  if (value < (1u << 7)) return 1;
  if (value < (1u << 14)) return 2;
  if (value < (1u << 21)) return 3;
  if (value < (1u << 28)) return 4;
  return 5;  // not valid MQTT, but it is what encode_varint writes
}

}  // namespace stellwerk::mqtt

// Reason code names, the per-packet lists of codes the v5 spec allows
// (Tables 3-1 and 3-4 .. 3-11), and the mapping to 3.1.1 CONNACK return codes.
#include <array>
#include <cstddef>
#include <initializer_list>

#include "mqtt/packet.h"
#include "mqtt/reason_code.h"

namespace stellwerk::mqtt {
namespace {

// One bit per code value; built at compile time from the spec's tables.
class CodeSet {
 public:
  constexpr CodeSet(std::initializer_list<uint8_t> codes) {
    for (uint8_t code : codes) words_[code / 64] |= uint64_t{1} << (code % 64);
  }
  constexpr bool contains(uint8_t code) const { return (words_[code / 64] >> (code % 64)) & 1; }

 private:
  std::array<uint64_t, 4> words_{};
};

constexpr CodeSet kKnownCodes{
#define STELLWERK_REASON_VALUE(name, value, text) value,
    STELLWERK_REASON_CODES(STELLWERK_REASON_VALUE)
#undef STELLWERK_REASON_VALUE
};

constexpr CodeSet kConnackCodes{0x00, 0x80, 0x81, 0x82, 0x83, 0x84, 0x85, 0x86, 0x87, 0x88, 0x89,
                                0x8A, 0x8C, 0x90, 0x95, 0x97, 0x99, 0x9A, 0x9B, 0x9C, 0x9D, 0x9F};
constexpr CodeSet kPubackCodes{0x00, 0x10, 0x80, 0x83, 0x87, 0x90, 0x91, 0x97, 0x99};
constexpr CodeSet kPubrelCodes{0x00, 0x92};
constexpr CodeSet kSubackCodes{0x00, 0x01, 0x02, 0x80, 0x83, 0x87,
                               0x8F, 0x91, 0x97, 0x9E, 0xA1, 0xA2};
constexpr CodeSet kUnsubackCodes{0x00, 0x11, 0x80, 0x83, 0x87, 0x8F, 0x91};
constexpr CodeSet kDisconnectCodes{0x00, 0x04, 0x80, 0x81, 0x82, 0x83, 0x87, 0x89, 0x8B, 0x8D,
                                   0x8E, 0x8F, 0x90, 0x93, 0x94, 0x95, 0x96, 0x97, 0x98, 0x99,
                                   0x9A, 0x9B, 0x9C, 0x9D, 0x9E, 0x9F, 0xA0, 0xA1, 0xA2};
constexpr CodeSet kAuthCodes{0x00, 0x18, 0x19};
constexpr CodeSet kNoCodes{};

const CodeSet& codes_for(PacketType type) {
  switch (type) {
    case PacketType::connack: return kConnackCodes;
    case PacketType::puback:
    case PacketType::pubrec: return kPubackCodes;
    case PacketType::pubrel:
    case PacketType::pubcomp: return kPubrelCodes;
    case PacketType::suback: return kSubackCodes;
    case PacketType::unsuback: return kUnsubackCodes;
    case PacketType::disconnect: return kDisconnectCodes;
    case PacketType::auth: return kAuthCodes;
    default: return kNoCodes;
  }
}

}  // namespace

const char* reason_code_text(ReasonCode code) {
  switch (code) {
#define STELLWERK_REASON_TEXT(name, value, text) \
  case ReasonCode::name: return text;
    STELLWERK_REASON_CODES(STELLWERK_REASON_TEXT)
#undef STELLWERK_REASON_TEXT
  }
  return "Unknown reason code";
}

bool is_known_reason_code(uint8_t value) { return kKnownCodes.contains(value); }

bool is_allowed_reason_code(PacketType type, ReasonCode code) {
  return codes_for(type).contains(static_cast<uint8_t>(code));
}

V3ConnackCode to_v3_connack_code(ReasonCode code) {
  switch (code) {
    case ReasonCode::success: return V3ConnackCode::accepted;
    case ReasonCode::unsupported_protocol_version:
      return V3ConnackCode::unacceptable_protocol_version;
    case ReasonCode::client_identifier_not_valid: return V3ConnackCode::identifier_rejected;
    case ReasonCode::server_unavailable:
    case ReasonCode::server_busy:
    case ReasonCode::quota_exceeded: return V3ConnackCode::server_unavailable;
    case ReasonCode::bad_user_name_or_password: return V3ConnackCode::bad_username_or_password;
    default: return V3ConnackCode::not_authorized;
  }
}

ReasonCode from_v3_connack_code(V3ConnackCode code) {
  switch (code) {
    case V3ConnackCode::accepted: return ReasonCode::success;
    case V3ConnackCode::unacceptable_protocol_version:
      return ReasonCode::unsupported_protocol_version;
    case V3ConnackCode::identifier_rejected: return ReasonCode::client_identifier_not_valid;
    case V3ConnackCode::server_unavailable: return ReasonCode::server_unavailable;
    case V3ConnackCode::bad_username_or_password: return ReasonCode::bad_user_name_or_password;
    case V3ConnackCode::not_authorized: return ReasonCode::not_authorized;
  }
  return ReasonCode::not_authorized;
}

}  // namespace stellwerk::mqtt

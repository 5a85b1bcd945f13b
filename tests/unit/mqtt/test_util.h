// Helpers for the mqtt codec tests: byte literals and one-call decode.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <initializer_list>
#include <string>
#include <vector>

#include "mqtt/codec.h"

namespace stellwerk::mqtt::testing {

using Bytes = std::vector<uint8_t>;

inline Bytes bytes_of(const std::string& text) { return Bytes(text.begin(), text.end()); }

inline std::string encoded(const Packet& packet, Version version) {
  std::string out;
  encode(packet, version, out);
  return out;
}

inline Result<Packet, DecodeError> decode(const Bytes& frame, Version version) {
  return decode_packet(frame, version);
}

// Decodes `frame` and expects failure with `reason`.
inline void expect_error(const Bytes& frame, Version version, ReasonCode reason) {
  auto result = decode(frame, version);
  ASSERT_FALSE(result.ok()) << "decoded although it should fail";
  EXPECT_EQ(result.error().reason, reason) << result.error().why;
}

inline void expect_malformed(const Bytes& frame, Version version) {
  expect_error(frame, version, ReasonCode::malformed_packet);
}

inline void expect_protocol_error(const Bytes& frame, Version version) {
  expect_error(frame, version, ReasonCode::protocol_error);
}

// Appends bytes one by one: GCC 12 warns falsely (-Warray-bounds) on
// vector::insert of small vectors.
inline void append(Bytes& out, const Bytes& more) {
  for (uint8_t byte : more) out.push_back(byte);
}

// Builds a frame from a first byte and a body, computing the Remaining Length.
inline Bytes frame(uint8_t first_byte, const Bytes& body) {
  std::string header(1, static_cast<char>(first_byte));
  encode_varint(static_cast<uint32_t>(body.size()), header);
  Bytes result = bytes_of(header);
  append(result, body);
  return result;
}

// A length-prefixed string as bytes.
inline Bytes str(const std::string& text) {
  Bytes out{static_cast<uint8_t>(text.size() >> 8), static_cast<uint8_t>(text.size())};
  append(out, bytes_of(text));
  return out;
}

inline Bytes cat(std::initializer_list<Bytes> parts) {
  Bytes out;
  for (const Bytes& part : parts) append(out, part);
  return out;
}

}  // namespace stellwerk::mqtt::testing

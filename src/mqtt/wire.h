// Internal to the mqtt module: the byte-level reader and writers the codec is
// built from. Not part of the public API.
//
// Reader keeps the first error and from then on reads nothing (it jumps to the
// end and returns zeros), so a decoder can read a whole field sequence and test
// ok() at the points where a value decides what happens next. The two sinks
// share one interface so a single template per packet both measures and
// writes it: the sizes encode() reserves cannot drift from what it writes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <string_view>

#include "mqtt/codec.h"
#include "mqtt/validate.h"

namespace stellwerk::mqtt::wire {

class Reader {
 public:
  explicit Reader(std::span<const uint8_t> bytes)
      : pos_(bytes.data()), end_(bytes.data() + bytes.size()) {}

  size_t remaining() const { return static_cast<size_t>(end_ - pos_); }
  bool ok() const { return !failed_; }
  const DecodeError& error() const { return error_; }
  DecodeError take_error() { return std::move(error_); }

  // Records the first failure only: later ones are consequences of it.
  void fail(ReasonCode reason, std::string why) {
    if (!failed_) error_ = DecodeError{reason, std::move(why)};
    failed_ = true;
    pos_ = end_;
  }
  void malformed(std::string why) { fail(ReasonCode::malformed_packet, std::move(why)); }
  void protocol_error(std::string why) { fail(ReasonCode::protocol_error, std::move(why)); }

  // v5 requires the shortest varint encoding [MQTT-1.5.5-1]; 3.1.x does not.
  void require_minimal_varints(bool required) { minimal_varints_ = required; }

  uint8_t u8() {
    if (!need(1)) return 0;
    return *pos_++;
  }
  uint16_t u16() {
    if (!need(2)) return 0;
    uint16_t value = static_cast<uint16_t>(pos_[0] << 8 | pos_[1]);
    pos_ += 2;
    return value;
  }
  uint32_t u32() {
    if (!need(4)) return 0;
    uint32_t value = uint32_t{pos_[0]} << 24 | uint32_t{pos_[1]} << 16 |
                     uint32_t{pos_[2]} << 8 | uint32_t{pos_[3]};
    pos_ += 4;
    return value;
  }
  uint32_t varint();
  // The next byte without consuming it; 0 at the end.
  uint8_t peek() const { return pos_ != end_ ? *pos_ : 0; }
  std::string_view bytes(size_t count) {
    if (!need(count)) return {};
    std::string_view view(reinterpret_cast<const char*>(pos_), count);
    pos_ += count;
    return view;
  }
  std::string_view rest() { return bytes(remaining()); }
  // Binary Data: two-byte length, then that many bytes.
  std::string_view binary() { return bytes(u16()); }
  // UTF-8 Encoded String [MQTT-1.5.4-1] [MQTT-1.5.4-2]: ill-formed is malformed.
  std::string_view utf8() {
    std::string_view text = binary();
    if (ok() && !is_valid_utf8(text)) malformed("invalid UTF-8 string");
    return text;
  }

 private:
  bool need(size_t count) {
    if (count <= remaining()) return true;
    malformed("packet shorter than its fields");
    return false;
  }

  const uint8_t* pos_;
  const uint8_t* end_;
  bool failed_ = false;
  bool minimal_varints_ = false;
  DecodeError error_;
};

inline uint32_t Reader::varint() {
  uint32_t value = 0;
  for (int i = 0; i < 4; ++i) {
    uint8_t byte = u8();
    value |= uint32_t{byte & 0x7Fu} << (7 * i);
    if ((byte & 0x80) == 0) {
      bool longer_than_needed = i > 0 && byte == 0;
      if (minimal_varints_ && longer_than_needed) malformed("non-minimal variable byte integer");
      return ok() ? value : 0;
    }
  }
  malformed("variable byte integer longer than 4 bytes");
  return 0;
}

// Counts bytes instead of writing them.
class SizeSink {
 public:
  void u8(uint8_t) { size_ += 1; }
  void u16(uint16_t) { size_ += 2; }
  void u32(uint32_t) { size_ += 4; }
  void varint(uint32_t value) { size_ += varint_size(value); }
  void raw(std::string_view bytes) { size_ += bytes.size(); }
  void string(std::string_view text) { size_ += 2 + text.size(); }
  void add(size_t bytes) { size_ += bytes; }
  size_t size() const { return size_; }

 private:
  size_t size_ = 0;
};

// Writes into memory the caller has sized with SizeSink beforehand.
class WriteSink {
 public:
  explicit WriteSink(uint8_t* out) : pos_(out) {}
  void u8(uint8_t value) { *pos_++ = value; }
  void u16(uint16_t value) {
    pos_[0] = static_cast<uint8_t>(value >> 8);
    pos_[1] = static_cast<uint8_t>(value);
    pos_ += 2;
  }
  void u32(uint32_t value) {
    u16(static_cast<uint16_t>(value >> 16));
    u16(static_cast<uint16_t>(value));
  }
  void varint(uint32_t value) {
    do {
      uint8_t byte = value & 0x7F;
      value >>= 7;
      u8(value ? byte | 0x80 : byte);
    } while (value);
  }
  void raw(std::string_view bytes) {
    if (bytes.empty()) return;  // memcpy from a null data() is undefined
    std::memcpy(pos_, bytes.data(), bytes.size());
    pos_ += bytes.size();
  }
  // Length-prefixed string or binary data; the caller keeps it under 64 KiB.
  void string(std::string_view text) {
    u16(static_cast<uint16_t>(text.size()));
    raw(text);
  }
  const uint8_t* position() const { return pos_; }

 private:
  uint8_t* pos_;
};

}  // namespace stellwerk::mqtt::wire

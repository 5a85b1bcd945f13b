// Little-endian fixed-width integers, LEB128 varints and length-prefixed
// strings: the vocabulary of every record payload. The reader never reads
// past its input; the first failed read makes it fail for good, so a decoder
// can read all fields and check ok() once at the end.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace stellwerk::store::coding {

// Inline: the broker's thread encodes a few records per delivery with these.
template <typename T>
inline void put_fixed(std::string& out, T value) {
  char bytes[sizeof(T)];
  for (size_t i = 0; i < sizeof(T); ++i) bytes[i] = static_cast<char>((value >> (8 * i)) & 0xFF);
  out.append(bytes, sizeof(T));
}
inline void put_u8(std::string& out, uint8_t value) { out.push_back(static_cast<char>(value)); }
inline void put_u16(std::string& out, uint16_t value) { put_fixed(out, value); }
inline void put_u32(std::string& out, uint32_t value) { put_fixed(out, value); }
inline void put_u64(std::string& out, uint64_t value) { put_fixed(out, value); }
inline void put_varint(std::string& out, uint64_t value) {
  char bytes[10];
  size_t size = 0;
  while (value >= 0x80) {
    bytes[size++] = static_cast<char>((value & 0x7F) | 0x80);
    value >>= 7;
  }
  bytes[size++] = static_cast<char>(value);
  out.append(bytes, size);
}
// Varint length, then the bytes.
inline void put_bytes(std::string& out, std::string_view bytes) {
  put_varint(out, bytes.size());
  out.append(bytes);
}

// Overwrites 4 or 8 bytes at `offset` (for header fields known only later).
void patch_u32(std::string& out, size_t offset, uint32_t value);
void patch_u64(std::string& out, size_t offset, uint64_t value);

uint32_t load_u32(const char* p);
uint64_t load_u64(const char* p);

class Reader {
 public:
  explicit Reader(std::string_view input) : rest_(input) {}

  bool ok() const { return ok_; }
  bool at_end() const { return rest_.empty(); }
  size_t remaining() const { return rest_.size(); }
  // True when every read succeeded and nothing is left over.
  bool finished() const { return ok_ && rest_.empty(); }

  uint8_t u8();
  uint16_t u16();
  uint32_t u32();
  uint64_t u64();
  uint64_t varint();
  // A varint that must fit in 32 bits (counts, subscription identifiers).
  uint32_t varint32();
  std::string_view bytes();
  std::string string() { return std::string(bytes()); }
  bool boolean();

 private:
  std::string_view take(size_t size);

  std::string_view rest_;
  bool ok_ = true;
};

}  // namespace stellwerk::store::coding

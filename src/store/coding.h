// Little-endian fixed-width integers, LEB128 varints and length-prefixed
// strings: the vocabulary of every record payload. The reader never reads
// past its input; the first failed read makes it fail for good, so a decoder
// can read all fields and check ok() once at the end.
#pragma once

#include <bit>
#include <cstdint>
#include <cstring>
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

// Fixed-width little-endian integers in place. Inline and, on a
// little-endian host, one load or store each: seal() patches two header
// fields of every frame it checksums.
template <typename T>
inline void store_fixed(char* p, T value) {
  if constexpr (std::endian::native == std::endian::little) {
    std::memcpy(p, &value, sizeof(T));
  } else {
    for (size_t i = 0; i < sizeof(T); ++i) p[i] = static_cast<char>((value >> (8 * i)) & 0xFF);
  }
}
template <typename T>
inline T load_fixed(const char* p) {
  T value = 0;
  if constexpr (std::endian::native == std::endian::little) {
    std::memcpy(&value, p, sizeof(T));
  } else {
    for (size_t i = sizeof(T); i-- > 0;) value = static_cast<T>((value << 8) | static_cast<uint8_t>(p[i]));
  }
  return value;
}

// Overwrites 4 or 8 bytes at `offset` (for header fields known only later).
inline void patch_u32(std::string& out, size_t offset, uint32_t value) {
  store_fixed(out.data() + offset, value);
}
inline void patch_u64(std::string& out, size_t offset, uint64_t value) {
  store_fixed(out.data() + offset, value);
}

inline uint32_t load_u32(const char* p) { return load_fixed<uint32_t>(p); }
inline uint64_t load_u64(const char* p) { return load_fixed<uint64_t>(p); }

inline constexpr size_t kMaxVarintSize = 10;

// Appends to a string through space made once per record: the put_*
// functions above check the string's capacity and call into the library for
// every field, which showed in profiles of the broker's thread (a few records
// per delivery). reserve(n) makes room for n more bytes; the writes after it
// check nothing, so a record's encoder reserves its worst case first. The
// destructor gives back what was reserved and not written. Reserved space is
// not zeroed: whatever the writer keeps it must have written.
//
// A string written by one writer after another (a Batch's frames) can keep
// its reserved space between them instead: the string then holds written
// bytes up to `end`, kept outside it, and room after that. Such a writer
// starts at `end`, stores where it ended there, and leaves the room, so that
// the next one need not make it again (two calls per record that showed in
// profiles of the broker's thread).
class Writer {
 public:
  explicit Writer(std::string& out) : out_(out), end_(out.size()) {}
  Writer(std::string& out, size_t& end) : out_(out), end_(end), kept_end_(&end) {}
  Writer(const Writer&) = delete;
  Writer& operator=(const Writer&) = delete;
  ~Writer() {
    if (kept_end_) {
      *kept_end_ = end_;
    } else {
      out_.resize(end_);
    }
  }

  void reserve(size_t more) {
    if (out_.size() - end_ < more) grow(more);
  }
  // Where the next byte goes, as an offset into the string.
  size_t offset() const { return end_; }
  // The written byte at `offset`, to patch a field known only later.
  char* at(size_t offset) { return out_.data() + offset; }

  void u8(uint8_t value) { out_.data()[end_++] = static_cast<char>(value); }
  void u16(uint16_t value) { fixed(value); }
  void u32(uint32_t value) { fixed(value); }
  void u64(uint64_t value) { fixed(value); }
  void varint(uint64_t value) {
    char* p = out_.data() + end_;
    while (value >= 0x80) {
      *p++ = static_cast<char>((value & 0x7F) | 0x80);
      value >>= 7;
    }
    *p++ = static_cast<char>(value);
    end_ = static_cast<size_t>(p - out_.data());
  }
  // Varint length, then the bytes; reserve kMaxVarintSize + size for it.
  void bytes(std::string_view bytes) {
    varint(bytes.size());
    raw(bytes);
  }
  void raw(std::string_view bytes) {
    if (bytes.empty()) return;
    std::memcpy(out_.data() + end_, bytes.data(), bytes.size());
    end_ += bytes.size();
  }
  // `size` bytes left unwritten (not zeroed: reserve() does not clear), to
  // be patched later.
  void skip(size_t size) { end_ += size; }

 private:
  template <typename T>
  void fixed(T value) {
    store_fixed(out_.data() + end_, value);
    end_ += sizeof(T);
  }
  void grow(size_t more);

  std::string& out_;
  size_t end_;  // out_ holds the written bytes up to here, then reserved space
  size_t* kept_end_ = nullptr;
};

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

// Base64 by table lookup; see base64.h.
#include "base/base64.h"

#include <array>

namespace stellwerk {
namespace {

constexpr std::string_view kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
constexpr uint8_t kInvalid = 0xff;

constexpr std::array<uint8_t, 256> make_decode_table() {
  std::array<uint8_t, 256> table{};
  table.fill(kInvalid);
  for (size_t i = 0; i < kAlphabet.size(); ++i)
    table[static_cast<uint8_t>(kAlphabet[i])] = static_cast<uint8_t>(i);
  return table;
}
constexpr std::array<uint8_t, 256> kDecode = make_decode_table();

// Strips up to two '=' at the end; nullopt when padding makes the length wrong.
std::optional<std::string_view> strip_padding(std::string_view text) {
  size_t pads = 0;
  while (pads < 2 && pads < text.size() && text[text.size() - 1 - pads] == '=') ++pads;
  if (pads > 0 && text.size() % 4 != 0) return std::nullopt;
  return text.substr(0, text.size() - pads);
}

}  // namespace

std::string base64_encode(std::span<const uint8_t> bytes, Base64Padding padding) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    const uint32_t group = (uint32_t{bytes[i]} << 16) | (uint32_t{bytes[i + 1]} << 8) | bytes[i + 2];
    for (int shift = 18; shift >= 0; shift -= 6) out += kAlphabet[(group >> shift) & 0x3f];
  }
  const size_t left = bytes.size() - i;
  if (left == 0) return out;
  uint32_t group = uint32_t{bytes[i]} << 16;
  if (left == 2) group |= uint32_t{bytes[i + 1]} << 8;
  out += kAlphabet[(group >> 18) & 0x3f];
  out += kAlphabet[(group >> 12) & 0x3f];
  if (left == 2) out += kAlphabet[(group >> 6) & 0x3f];
  if (padding == Base64Padding::with_padding) out.append(3 - left, '=');
  return out;
}

std::optional<std::vector<uint8_t>> base64_decode(std::string_view text) {
  const std::optional<std::string_view> body = strip_padding(text);
  // One character left over carries only 6 bits: no byte string encodes to that.
  if (!body || body->size() % 4 == 1) return std::nullopt;
  std::vector<uint8_t> out;
  out.reserve(body->size() * 3 / 4);
  uint32_t bits = 0;
  int bit_count = 0;
  for (const char c : *body) {
    const uint8_t value = kDecode[static_cast<uint8_t>(c)];
    if (value == kInvalid) return std::nullopt;
    bits = (bits << 6) | value;
    bit_count += 6;
    if (bit_count >= 8) {
      bit_count -= 8;
      out.push_back(static_cast<uint8_t>(bits >> bit_count));
    }
  }
  return out;
}

std::string base64_encode(std::string_view bytes) {
  return base64_encode(std::span(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()),
                       Base64Padding::with_padding);
}

std::optional<std::string> base64_decode_to_string(std::string_view text) {
  std::optional<std::vector<uint8_t>> bytes = base64_decode(text);
  if (!bytes) return std::nullopt;
  return std::string(bytes->begin(), bytes->end());
}

}  // namespace stellwerk

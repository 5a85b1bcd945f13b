// UTF-8 and topic rules shared by all versions (v5 1.5.4 and 4.7, 3.1.1 1.5.3
// and 4.7). The UTF-8 check runs on every string the decoder reads, so pure
// ASCII is checked eight bytes at a time before falling back to a scalar
// decoder that rejects overlong forms, surrogates, code points above
// U+10FFFF and U+0000. Other control characters and non-characters (U+FFFF)
// are allowed: the spec only says a receiver MAY reject them.
#include "mqtt/validate.h"

#include <algorithm>
#include <cstdint>
#include <cstring>

namespace stellwerk::mqtt {
namespace {

constexpr size_t kMaxStringBytes = 65'535;
constexpr std::string_view kSharePrefix = "$share/";

constexpr uint64_t kHigh = 0x8080808080808080ULL;
constexpr uint64_t kOnes = 0x0101010101010101ULL;

uint64_t load_word(const unsigned char* bytes) {
  uint64_t word;
  std::memcpy(&word, bytes, sizeof word);
  return word;
}

// Nonzero exactly when some byte of `word` is zero (which byte it marks is
// not exact, which no caller needs).
uint64_t zero_byte_mask(uint64_t word) { return (word - kOnes) & ~word & kHigh; }

// True when none of the 8 bytes has the high bit set or is zero.
bool is_plain_ascii_word(const unsigned char* bytes) {
  const uint64_t word = load_word(bytes);
  return ((word & kHigh) | zero_byte_mask(word)) == 0;
}

bool is_wildcard(char c) { return c == '+' || c == '#'; }

// Length of the sequence a lead byte starts, or 0 for a byte that cannot lead.
size_t sequence_length(unsigned char lead) {
  if (lead < 0x80) return 1;
  if (lead >= 0xC2 && lead <= 0xDF) return 2;
  if (lead >= 0xE0 && lead <= 0xEF) return 3;
  if (lead >= 0xF0 && lead <= 0xF4) return 4;
  return 0;  // continuation byte, overlong 2-byte lead (C0/C1) or beyond U+10FFFF
}

// Checks one multi-byte sequence starting at `s` of `length` bytes. The second
// byte's range carries the overlong, surrogate and U+10FFFF limits (RFC 3629
// section 4).
bool is_valid_sequence(const unsigned char* s, size_t length) {
  unsigned char lead = s[0];
  unsigned char second = s[1];
  unsigned char low = 0x80, high = 0xBF;
  if (lead == 0xE0) low = 0xA0;
  if (lead == 0xED) high = 0x9F;  // U+D800..U+DFFF would follow
  if (lead == 0xF0) low = 0x90;
  if (lead == 0xF4) high = 0x8F;
  if (second < low || second > high) return false;
  for (size_t i = 2; i < length; ++i) {
    if ((s[i] & 0xC0) != 0x80) return false;
  }
  return true;
}

bool is_valid_utf8_tail(const unsigned char* s, size_t size) {
  size_t i = 0;
  while (i < size) {
    unsigned char lead = s[i];
    if (lead == 0) return false;
    size_t length = sequence_length(lead);
    if (length == 0 || length > size - i) return false;
    if (length > 1 && !is_valid_sequence(s + i, length)) return false;
    i += length;
  }
  return true;
}

bool is_valid_filter_levels(std::string_view filter) {
  size_t level_start = 0;
  for (size_t i = 0; i < filter.size(); ++i) {
    char c = filter[i];
    if (c == '/') {
      level_start = i + 1;
      continue;
    }
    if (c != '+' && c != '#') continue;
    bool whole_level = i == level_start && (i + 1 == filter.size() || filter[i + 1] == '/');
    if (!whole_level) return false;
    if (c == '#' && i + 1 != filter.size()) return false;  // '#' must be the last level
  }
  return true;
}

}  // namespace

bool is_valid_utf8(std::string_view text) {
  if (text.size() > kMaxStringBytes) return false;
  const auto* bytes = reinterpret_cast<const unsigned char*>(text.data());
  size_t i = 0;
  while (i + 8 <= text.size() && is_plain_ascii_word(bytes + i)) i += 8;
  return is_valid_utf8_tail(bytes + i, text.size() - i);
}

// Eight bytes at a time: every PUBLISH topic passes here, and
// find_first_of("+#") costs one memchr per character.
bool has_wildcard(std::string_view filter) {
  const auto* bytes = reinterpret_cast<const unsigned char*>(filter.data());
  size_t i = 0;
  for (; i + 8 <= filter.size(); i += 8) {
    const uint64_t word = load_word(bytes + i);
    if ((zero_byte_mask(word ^ (kOnes * '+')) | zero_byte_mask(word ^ (kOnes * '#'))) != 0) return true;
  }
  return std::any_of(filter.begin() + static_cast<ptrdiff_t>(i), filter.end(), is_wildcard);
}

bool topic_level_less(std::string_view a, std::string_view b) {
  const auto [in_a, in_b] = std::mismatch(a.begin(), a.end(), b.begin(), b.end());
  if (in_a == a.end() || in_b == b.end()) return in_b != b.end();  // a is a prefix of b, or equal
  if (*in_a == '/' || *in_b == '/') return *in_a == '/';
  return static_cast<unsigned char>(*in_a) < static_cast<unsigned char>(*in_b);
}

bool is_valid_topic_name(std::string_view topic) {
  return !topic.empty() && !has_wildcard(topic) && is_valid_utf8(topic);
}

std::optional<SharedFilter> parse_shared_filter(std::string_view filter) {
  if (!filter.starts_with(kSharePrefix)) return std::nullopt;
  std::string_view rest = filter.substr(kSharePrefix.size());
  size_t slash = rest.find('/');
  if (slash == std::string_view::npos) return SharedFilter{};  // no filter part
  std::string_view group = rest.substr(0, slash);
  std::string_view inner = rest.substr(slash + 1);
  if (group.empty() || has_wildcard(group) || inner.empty()) return SharedFilter{{}, inner};
  return SharedFilter{group, inner};
}

bool is_valid_topic_filter(std::string_view filter) {
  if (filter.empty() || !is_valid_utf8(filter)) return false;
  if (auto shared = parse_shared_filter(filter)) {
    return !shared->group.empty() && is_valid_filter_levels(shared->filter);
  }
  return is_valid_filter_levels(filter);
}

}  // namespace stellwerk::mqtt

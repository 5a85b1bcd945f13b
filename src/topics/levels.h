// Topic levels without allocation, and the "$share/{group}/{filter}" prefix.
//
// Both trees walk a topic or filter one level at a time. LevelCursor hands out
// each level as a string_view into the caller's string, so matching a PUBLISH
// never copies or allocates. Empty levels are real levels: "a//b" has three
// and "/" has two, as MQTT 4.7.1.1 requires.
#pragma once

#include <cstring>
#include <optional>
#include <string_view>

namespace stellwerk::topics {

class LevelCursor {
 public:
  explicit LevelCursor(std::string_view text) : rest_(text) {}

  // True while levels remain; an empty string still has one (empty) level.
  bool has_next() const { return !done_; }

  std::string_view next() {
    // memchr must not see the null data() of an empty view, even with size 0.
    const void* slash = rest_.empty() ? nullptr : std::memchr(rest_.data(), '/', rest_.size());
    if (slash == nullptr) {
      done_ = true;
      return rest_;
    }
    const size_t length = static_cast<const char*>(slash) - rest_.data();
    std::string_view level = rest_.substr(0, length);
    rest_.remove_prefix(length + 1);
    return level;
  }

  // The unread part: what follows the last level returned by next().
  std::string_view rest() const { return done_ ? std::string_view{} : rest_; }

 private:
  std::string_view rest_;
  bool done_ = false;
};

inline bool is_single_level_wildcard(std::string_view level) { return level == "+"; }
inline bool is_multi_level_wildcard(std::string_view level) { return level == "#"; }

// Topics whose first level starts with '$' are hidden from '+' and '#' in the
// first level of a filter [MQTT-4.7.2-1].
inline bool is_dollar_level(std::string_view level) { return !level.empty() && level[0] == '$'; }

struct SharedFilter {
  std::string_view group;
  std::string_view filter;
};

// Splits "$share/{group}/{filter}". nullopt for a filter that is not shared.
// A "$share/..." filter without a second '/' is not a valid shared filter; the
// caller validates filters, so it is then treated as an ordinary filter.
inline std::optional<SharedFilter> split_shared_filter(std::string_view filter) {
  constexpr std::string_view kPrefix = "$share/";
  if (!filter.starts_with(kPrefix)) return std::nullopt;
  std::string_view rest = filter.substr(kPrefix.size());
  const size_t slash = rest.find('/');
  if (slash == std::string_view::npos) return std::nullopt;
  return SharedFilter{rest.substr(0, slash), rest.substr(slash + 1)};
}

}  // namespace stellwerk::topics

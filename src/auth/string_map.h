// A hash map keyed by std::string that is looked up with a string_view, so
// that a check on the hot path never builds a std::string to find a user.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace stellwerk::auth {

struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view text) const { return std::hash<std::string_view>{}(text); }
};

template <typename Value>
using StringMap = std::unordered_map<std::string, Value, StringHash, std::equal_to<>>;

}  // namespace stellwerk::auth

// The directive table: one row per configuration key, giving its scope, the
// kind and range of its value, the function that stores it, its default and a
// line of documentation. The parser dispatches on this table and
// directives_markdown() prints it, so code and docs cannot drift apart.
#pragma once

#include <cstdint>
#include <limits>
#include <span>
#include <string_view>
#include <variant>

#include "base/result.h"
#include "config/config.h"

namespace stellwerk::config {

struct ParseState;  // parser.h: what a setter may change while a file is read

enum class Scope {
  global,              // applies to the whole broker, wherever it appears
  listener,            // applies to the current listener (before any: the default listener)
  listener_or_global,  // in a listener section: that listener; before any: all listeners' default
};

enum class ValueKind {
  boolean,   // exactly `true` or `false`
  integer,   // decimal, within [min, max]
  string,    // the rest of the line, trimmed, not empty
  choice,    // one word out of `syntax` ("a|b|c")
  duration,  // <n>h|d|w|m|y, stored as seconds
  special,   // the setter reads the rest of the line itself; `syntax` documents it
};

enum class Origin { mosquitto, stellwerk };

// A parsed value: bool for boolean, int64_t for integer and duration,
// std::string for everything else.
using Value = std::variant<bool, int64_t, std::string>;

// Stores a value. Errors carry only a message unless they come from another
// file (include_dir); the parser fills in file, line and key.
using Setter = Status<ConfigError> (*)(ParseState& state, Value& value);

inline constexpr int64_t kNoUpperLimit = std::numeric_limits<int64_t>::max();

struct Directive {
  std::string_view name;
  Scope scope = Scope::global;
  ValueKind kind = ValueKind::string;
  Setter set = nullptr;
  std::string_view default_text;  // a literal value, or "(...)" when it is a description
  std::string_view doc;
  int64_t min = 0;
  int64_t max = kNoUpperLimit;
  std::string_view syntax;  // choice: "a|b|c"; string and special: how the value is written
  Origin origin = Origin::mosquitto;
};

// A mosquitto 2 key (or key prefix ending in '*') that Stellwerk rejects.
struct UnsupportedKey {
  std::string_view name;
  std::string_view feature;
};

std::span<const Directive> directives();
std::span<const UnsupportedKey> unsupported_mosquitto_keys();

const Directive* find_directive(std::string_view name);
const UnsupportedKey* find_unsupported(std::string_view name);

}  // namespace stellwerk::config

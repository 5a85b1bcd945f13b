// Setters named in the directive table. Most keys store their parsed value in
// one field (to_global / to_listener); the special ones, which change the
// parser's position or build lists, are written out in setters.cpp.
#pragma once

#include <optional>
#include <string>
#include <type_traits>

#include "config/directives.h"
#include "config/parser.h"

namespace stellwerk::config {

// A setter's error: only the message; the parser adds file, line and key.
inline Unexpected<ConfigError> problem(std::string message) {
  return fail(ConfigError{.message = std::move(message)});
}

// The table's ranges guarantee that an integer fits the field it goes to.
template <typename Field>
void assign(Field& field, Value& value) {
  if constexpr (std::is_same_v<Field, bool> || std::is_same_v<Field, std::optional<bool>>) {
    field = std::get<bool>(value);
  } else if constexpr (std::is_integral_v<Field>) {
    field = static_cast<Field>(std::get<int64_t>(value));
  } else {
    field = std::move(std::get<std::string>(value));
  }
}

template <auto Member>
Status<ConfigError> to_global(ParseState& state, Value& value) {
  assign(state.config.*Member, value);
  return {};
}

template <auto Member>
Status<ConfigError> to_listener(ParseState& state, Value& value) {
  assign(state.current_listener().*Member, value);
  return {};
}

Status<ConfigError> set_listener(ParseState& state, Value& value);
Status<ConfigError> set_include_dir(ParseState& state, Value& value);
Status<ConfigError> set_port(ParseState& state, Value& value);
Status<ConfigError> set_bind_address(ParseState& state, Value& value);
Status<ConfigError> set_max_connections(ParseState& state, Value& value);
Status<ConfigError> set_max_packet_size(ParseState& state, Value& value);
Status<ConfigError> set_log_dest(ParseState& state, Value& value);
Status<ConfigError> set_log_type(ParseState& state, Value& value);
Status<ConfigError> set_persistence_sync(ParseState& state, Value& value);

}  // namespace stellwerk::config

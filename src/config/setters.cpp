// The directive setters that do more than store one value: listener sections,
// the default listener, and the accumulating log settings.
#include "config/setters.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>

#include "config/values.h"

namespace stellwerk::config {
namespace {

// Appends `entry` unless present; a real destination or type replaces "none".
template <typename List, typename Entry>
void add_unique(List& list, const Entry& entry, const Entry& none) {
  std::erase(list, none);
  if (std::find(list.begin(), list.end(), entry) == list.end()) list.push_back(entry);
}

constexpr std::array<std::string_view, 9> kLogTypeNames = {
    "error", "warning", "notice", "information", "debug", "subscribe", "unsubscribe", "all", "none"};

LogType log_type_named(std::string_view name) {
  const auto found = std::find(kLogTypeNames.begin(), kLogTypeNames.end(), name);
  return static_cast<LogType>(found - kLogTypeNames.begin());
}

}  // namespace

Status<ConfigError> set_listener(ParseState& state, Value& value) {
  const auto args = words(std::get<std::string>(value));
  if (args.empty()) return problem("missing PORT");
  if (args.size() > 2) return problem(fmt::format("expected PORT [ADDRESS], got extra text '{}'", args[2]));
  auto port = parse_integer(args[0], 1, 65535);
  if (!port) return problem("invalid port: " + port.error());
  ListenerConfig listener;
  listener.port = static_cast<uint16_t>(*port);
  if (args.size() == 2) listener.bind_address = std::string(args[1]);
  if (const auto* same = find_same_listener(state.config.listeners, listener)) {
    const auto index = static_cast<size_t>(same - state.config.listeners.data());
    return problem(fmt::format("duplicate listener: {} is already defined at {}", describe(listener),
                               state.listener_origins[index]));
  }
  state.config.listeners.push_back(std::move(listener));
  state.listener_origins.push_back(fmt::format("{}:{}", state.file, state.line));
  state.max_connections_set.push_back(false);
  state.listener = static_cast<int>(state.config.listeners.size()) - 1;
  state.listener_defined = true;
  return {};
}

Status<ConfigError> set_port(ParseState& state, Value& value) {
  state.default_listener.port = static_cast<uint16_t>(std::get<int64_t>(value));
  state.default_listener_named = true;
  state.listener_defined = true;
  state.use_default_listener();
  return {};
}

Status<ConfigError> set_bind_address(ParseState& state, Value& value) {
  state.default_listener.bind_address = std::move(std::get<std::string>(value));
  state.default_listener_named = true;
  state.listener_defined = true;
  state.use_default_listener();
  return {};
}

Status<ConfigError> set_max_connections(ParseState& state, Value& value) {
  const int64_t limit = std::get<int64_t>(value);
  if (!state.in_listener_section()) {
    state.config.max_connections = limit;
    return {};
  }
  state.current_listener().max_connections = limit;
  state.max_connections_set[static_cast<size_t>(state.listener)] = true;
  return {};
}

Status<ConfigError> set_max_packet_size(ParseState& state, Value& value) {
  const int64_t size = std::get<int64_t>(value);
  // Like mosquitto: below 20 bytes even a small PUBLISH would not fit.
  if (size > 0 && size < 20) return problem(fmt::format("{} is too small: use 0 (default) or 20 and more", size));
  state.config.max_packet_size = size == 0 ? kDefaultMaxPacketSize : static_cast<uint32_t>(size);
  return {};
}

Status<ConfigError> set_log_dest(ParseState& state, Value& value) {
  static constexpr std::string_view kSimpleDestinations = "stderr|stdout|syslog|topic|none";
  auto& destinations = state.config.log_dest;
  const auto [destination, path] = split_key(std::get<std::string>(value));
  if (destination == "file") {
    if (path.empty()) return problem("`log_dest file` needs a PATH");
    const bool has_file = std::any_of(destinations.begin(), destinations.end(),
                                      [](const std::string& d) { return d.starts_with("file "); });
    if (has_file) return problem("only one `log_dest file` is allowed");
    add_unique(destinations, "file " + std::string(path), std::string("none"));
    return {};
  }
  auto word = single_word(std::get<std::string>(value));
  if (!word) return problem(word.error());
  if (!is_choice(kSimpleDestinations, *word)) {
    return problem(fmt::format("expected {} or `file PATH`, got '{}'", describe_choices(kSimpleDestinations), *word));
  }
  if (*word == "none") {
    destinations = {"none"};
  } else {
    add_unique(destinations, std::string(*word), std::string("none"));
  }
  return {};
}

Status<ConfigError> set_log_type(ParseState& state, Value& value) {
  const LogType type = log_type_named(std::get<std::string>(value));
  auto& types = state.config.log_types;
  if (type == LogType::all || type == LogType::none) {
    types = {type};
  } else if (std::find(types.begin(), types.end(), LogType::all) == types.end()) {
    add_unique(types, type, LogType::none);
  }
  return {};
}

Status<ConfigError> set_persistence_sync(ParseState& state, Value& value) {
  const std::string& policy = std::get<std::string>(value);
  state.config.persistence_sync = policy == "always"     ? PersistenceSync::always
                                  : policy == "interval" ? PersistenceSync::interval
                                                         : PersistenceSync::never;
  return {};
}

}  // namespace stellwerk::config

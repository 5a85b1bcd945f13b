// The line loop: split each line into key and value, look the key up in the
// directive table, parse the value by the kind the table gives, check scope
// and repetition, and hand it to the directive's setter. Then finish(): place
// the default listener and give listeners the global max_connections.
#include "config/parser.h"

#include <fmt/format.h>

#include <algorithm>
#include <tuple>

#include "base/log.h"
#include "config/directives.h"
#include "config/values.h"

namespace stellwerk::config {
namespace {

size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t replaced = diagonal + (a[i - 1] == b[j - 1] ? 0 : 1);
      diagonal = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, replaced});
    }
  }
  return row[b.size()];
}

std::string unknown_key_message(std::string_view key) {
  if (const auto* unsupported = find_unsupported(key)) {
    return fmt::format("unsupported key: a mosquitto {} option that Stellwerk does not support",
                       unsupported->feature);
  }
  const Directive* closest = nullptr;
  size_t best = 3;  // suggest only near misses: typos, not other keys
  for (const auto& directive : directives()) {
    const size_t distance = edit_distance(key, directive.name);
    if (distance < best) {
      best = distance;
      closest = &directive;
    }
  }
  if (closest == nullptr) return "unknown key";
  return fmt::format("unknown key (did you mean `{}`?)", closest->name);
}

bool is_comment_or_blank(std::string_view line) {
  line = trim(line);
  return line.empty() || line.front() == '#';
}

// mosquitto refuses a second value for a string key in the same scope (a
// second pid_file, a second certfile for one listener); so do we.
Status<ConfigError> check_given_once(ParseState& state, const Directive& directive) {
  if (directive.kind != ValueKind::string) return {};
  const int scope = directive.scope == Scope::global ? kGlobalScope : state.listener;
  if (state.strings_given.emplace(scope, std::string(directive.name)).second) return {};
  return fail(state.error_here(scope == kGlobalScope ? "given more than once"
                                                     : "given more than once for the same listener"));
}

Status<ConfigError> run_setter(ParseState& state, const Directive& directive, Value& value) {
  auto status = directive.set(state, value);
  if (status.ok()) return status;
  ConfigError error = status.error();
  if (error.file.empty()) error = state.error_here(std::move(error.message));
  return fail(std::move(error));
}

Status<ConfigError> apply_line(ParseState& state, std::string_view line) {
  const auto [key, rest] = split_key(line);
  state.key = std::string(key);
  const Directive* directive = find_directive(key);
  if (directive == nullptr) return fail(state.error_here(unknown_key_message(key)));
  if (rest.empty()) return fail(state.error_here("missing value"));
  auto value = parse_value(*directive, rest);
  if (!value) return fail(state.error_here(value.error()));
  if (auto once = check_given_once(state, *directive); !once.ok()) return once;
  if (directive->scope == Scope::listener && !state.in_listener_section()) {
    state.use_default_listener();
  }
  return run_setter(state, *directive, *value);
}

ConfigError default_listener_error(const ParseState& state, std::string message) {
  ConfigError error = state.default_listener_origin;
  error.message = std::move(message);
  return error;
}

// The default listener joins the list only when some listener is configured,
// which is when mosquitto 2 leaves local-only mode.
Status<ConfigError> place_default_listener(ParseState& state) {
  if (!state.default_listener_used) return {};
  if (!state.listener_defined) {
    return fail(default_listener_error(
        state, "listener option but no listener is configured: add `listener PORT` before it "
               "(without listeners the broker runs local-only and would ignore it)"));
  }
  auto& listeners = state.config.listeners;
  if (const auto* same = find_same_listener(listeners, state.default_listener)) {
    const auto index = static_cast<size_t>(same - listeners.data());
    return fail(default_listener_error(
        state, fmt::format("the default listener ({}, set by `port`, `bind_address` or listener "
                           "options before any `listener` line) duplicates the listener at {}",
                           describe(*same), state.listener_origins[index])));
  }
  if (!state.default_listener_named) {
    log::warning("{}: `{}` before any `listener` line configures the default listener on {}",
                 state.default_listener_origin.file, state.default_listener_origin.key,
                 describe(state.default_listener));
  }
  listeners.push_back(state.default_listener);
  state.max_connections_set.push_back(false);
  return {};
}

Result<Config, ConfigError> finish(ParseState& state) {
  if (auto placed = place_default_listener(state); !placed.ok()) return fail(placed.error());
  auto& listeners = state.config.listeners;
  for (size_t i = 0; i < listeners.size(); ++i) {
    if (!state.max_connections_set[i]) listeners[i].max_connections = state.config.max_connections;
  }
  return std::move(state.config);
}

}  // namespace

ListenerConfig& ParseState::current_listener() {
  if (!in_listener_section()) return default_listener;
  return config.listeners[static_cast<size_t>(listener)];
}

void ParseState::use_default_listener() {
  if (default_listener_used) return;
  default_listener_used = true;
  default_listener_origin = error_here("");
}

ConfigError ParseState::error_here(std::string message) const {
  return ConfigError{.file = file, .line = line, .key = key, .message = std::move(message)};
}

std::string describe(const ListenerConfig& listener) {
  if (listener.bind_address.empty()) return fmt::format("port {} on all interfaces", listener.port);
  return fmt::format("port {} on {}", listener.port, listener.bind_address);
}

const ListenerConfig* find_same_listener(const std::vector<ListenerConfig>& listeners,
                                         const ListenerConfig& candidate) {
  const auto same = std::find_if(listeners.begin(), listeners.end(), [&](const ListenerConfig& l) {
    return l.port == candidate.port && l.bind_address == candidate.bind_address;
  });
  return same == listeners.end() ? nullptr : &*same;
}

Status<ConfigError> parse_file_text(ParseState& state, std::string_view text,
                                    const std::string& file_name) {
  const auto saved = std::make_tuple(state.file, state.line, state.key, state.listener);
  state.file = file_name;
  state.line = 0;
  state.listener = kDefaultListener;  // each file starts outside any listener section
  Status<ConfigError> status;
  for (size_t start = 0; status.ok();) {
    const size_t end = text.find('\n', start);
    std::string_view line = text.substr(start, end == std::string_view::npos ? end : end - start);
    if (line.ends_with('\r')) line.remove_suffix(1);
    ++state.line;
    if (!is_comment_or_blank(line)) status = apply_line(state, line);
    if (end == std::string_view::npos) break;
    start = end + 1;
  }
  std::tie(state.file, state.line, state.key, state.listener) = saved;
  return status;
}

Result<Config, ConfigError> parse_text(std::string_view text, std::string_view file_name,
                                       const ConfigFiles& files) {
  ParseState state(files);
  state.main_file = std::string(file_name);
  if (auto parsed = parse_file_text(state, text, state.main_file); !parsed.ok()) {
    return fail(parsed.error());
  }
  return finish(state);
}

Result<Config, ConfigError> parse_text(std::string_view text, std::string_view file_name) {
  return parse_text(text, file_name, disk_files());
}

Result<Config, ConfigError> load_file(const std::string& path, const ConfigFiles& files) {
  auto text = files.read(path);
  if (!text) return fail(ConfigError{.file = path, .message = "cannot read: " + text.error()});
  return parse_text(*text, path, files);
}

Result<Config, ConfigError> load_file(const std::string& path) { return load_file(path, disk_files()); }

}  // namespace stellwerk::config

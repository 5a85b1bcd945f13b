// The parser's working state, shared by the line loop (parser.cpp) and the
// setters in the directive table (setters.cpp). Internal to the module.
//
// Listener sections follow mosquitto 2: each file starts on the implicit
// default listener; `listener` moves to a new one until the end of the file.
// The default listener (set by `port`, `bind_address` and listener keys before
// any `listener` line) joins the listener list at the end, but only when the
// configuration defines some listener at all; otherwise the broker runs in
// local-only mode, and options that were meant for the default listener are
// an error rather than silently ignored (mosquitto ignores them).
#pragma once

#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "config/config.h"
#include "config/files.h"

namespace stellwerk::config {

inline constexpr int kDefaultListener = -1;

struct ParseState {
  explicit ParseState(const ConfigFiles& source) : files(source) {}

  const ConfigFiles& files;
  Config config;

  // The line being parsed; saved and restored around include_dir.
  std::string main_file;
  std::string file;
  int line = 0;
  std::string key;
  int depth = 0;                    // 0 = the main file, 1 = a file from include_dir
  int listener = kDefaultListener;  // index into config.listeners

  ListenerConfig default_listener;
  bool default_listener_used = false;  // some key configured it
  ConfigError default_listener_origin;  // the first such key, for error messages
  bool default_listener_named = false;  // `port` or `bind_address` seen
  bool listener_defined = false;        // `listener`, `port` or `bind_address` seen
  std::vector<bool> max_connections_set;     // per config.listeners entry
  std::vector<std::string> listener_origins;  // per config.listeners entry: "file:line"
  std::set<std::pair<int, std::string>> strings_given;  // (listener or global, key)

  bool in_listener_section() const { return listener != kDefaultListener; }
  ListenerConfig& current_listener();
  // Records that the current key configures the default listener.
  void use_default_listener();
  ConfigError error_here(std::string message) const;
};

// Parses the lines of one file (the main one or one from include_dir).
Status<ConfigError> parse_file_text(ParseState& state, std::string_view text,
                                    const std::string& file_name);

// The first listener in `listeners` with the same port and bind address, or nullptr.
const ListenerConfig* find_same_listener(const std::vector<ListenerConfig>& listeners,
                                         const ListenerConfig& candidate);

// "port 1883 on all interfaces", "port 8883 on 127.0.0.1".
std::string describe(const ListenerConfig& listener);

// Marker stored in ParseState::strings_given for global keys.
inline constexpr int kGlobalScope = -2;

}  // namespace stellwerk::config

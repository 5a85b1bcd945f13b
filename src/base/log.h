// Logging facade. Modules log through these functions so that the backend
// (spdlog) stays out of their headers. Formatting uses fmt.
#pragma once

#include <fmt/format.h>

#include <string>
#include <string_view>

namespace stellwerk::log {

enum class Level { debug, info, notice, warning, error };

void write(Level level, std::string_view message);
bool enabled(Level level);
void set_min_level(Level level);
// Sends log lines to a file instead of stderr ("" = stderr).
void set_destination(const std::string& path);

template <typename... Args>
void debug(fmt::format_string<Args...> f, Args&&... args) {
  if (enabled(Level::debug)) write(Level::debug, fmt::format(f, std::forward<Args>(args)...));
}
template <typename... Args>
void info(fmt::format_string<Args...> f, Args&&... args) {
  if (enabled(Level::info)) write(Level::info, fmt::format(f, std::forward<Args>(args)...));
}
template <typename... Args>
void notice(fmt::format_string<Args...> f, Args&&... args) {
  if (enabled(Level::notice)) write(Level::notice, fmt::format(f, std::forward<Args>(args)...));
}
template <typename... Args>
void warning(fmt::format_string<Args...> f, Args&&... args) {
  if (enabled(Level::warning)) write(Level::warning, fmt::format(f, std::forward<Args>(args)...));
}
template <typename... Args>
void error(fmt::format_string<Args...> f, Args&&... args) {
  if (enabled(Level::error)) write(Level::error, fmt::format(f, std::forward<Args>(args)...));
}

}  // namespace stellwerk::log

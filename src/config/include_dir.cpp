// include_dir: reading every *.conf file of a directory, as mosquitto 2 does.
//
// Files load in mosquitto's order: letters compare case-insensitively first
// and, when they are the same letter, upper case comes first, so A.conf,
// a.conf, B.conf, b.conf. Only the main file may include; mosquitto silently
// ignores include_dir elsewhere, which would hide a mistake, so it is an error.
#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <iterator>

#include "config/setters.h"

namespace stellwerk::config {
namespace {

bool comes_first(char a, char b) {
  const auto upper_a = std::toupper(static_cast<unsigned char>(a));
  const auto upper_b = std::toupper(static_cast<unsigned char>(b));
  if (upper_a != upper_b) return upper_a < upper_b;
  return static_cast<unsigned char>(a) < static_cast<unsigned char>(b);
}

bool loads_before(const std::string& a, const std::string& b) {
  return std::lexicographical_compare(a.begin(), a.end(), b.begin(), b.end(), comes_first);
}

// "x.conf" and longer; a file named only ".conf" is skipped, as in mosquitto.
bool is_config_file(const std::string& name) { return name.size() > 5 && name.ends_with(".conf"); }

std::string without_trailing_slashes(std::string directory) {
  while (directory.size() > 1 && directory.back() == '/') directory.pop_back();
  return directory;
}

bool same_path(const std::string& a, const std::string& b) {
  return std::filesystem::path(a).lexically_normal() == std::filesystem::path(b).lexically_normal();
}

Status<ConfigError> include_file(ParseState& state, const std::string& path) {
  if (same_path(path, state.main_file)) {
    return problem(fmt::format("the directory contains the main configuration file {}", path));
  }
  auto text = state.files.read(path);
  if (!text) return problem(fmt::format("cannot read {}: {}", path, text.error()));
  ++state.depth;
  auto status = parse_file_text(state, *text, path);
  --state.depth;
  return status;
}

}  // namespace

Status<ConfigError> set_include_dir(ParseState& state, Value& value) {
  if (state.depth > 0) return problem("only allowed in the main configuration file");
  const std::string directory = without_trailing_slashes(std::get<std::string>(value));
  auto names = state.files.list(directory);
  if (!names) return problem(fmt::format("cannot read directory {}: {}", directory, names.error()));
  std::vector<std::string> files;
  std::copy_if(names->begin(), names->end(), std::back_inserter(files), is_config_file);
  std::sort(files.begin(), files.end(), loads_before);
  for (const auto& name : files) {
    const std::string path = directory == "/" ? "/" + name : directory + "/" + name;
    if (auto status = include_file(state, path); !status.ok()) return status;
  }
  return {};
}

}  // namespace stellwerk::config

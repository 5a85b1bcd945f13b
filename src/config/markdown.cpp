// directives_markdown(): the directive table as Markdown, for
// docs/configuration.md. The unit test compares the document with this text,
// so a changed row without a regenerated document fails the build.
#include <fmt/format.h>

#include <algorithm>
#include <vector>

#include "config/config.h"
#include "config/directives.h"
#include "config/values.h"

namespace stellwerk::config {
namespace {

// A '|' inside a cell would end it.
std::string escape_cell(std::string_view text) {
  std::string escaped;
  for (const char c : text) {
    if (c == '|') escaped += '\\';
    escaped += c;
  }
  return escaped;
}

std::string quoted_choices(std::string_view syntax) {
  std::string text;
  while (!syntax.empty()) {
    const auto bar = syntax.find('|');
    if (!text.empty()) text += " \\| ";
    text += fmt::format("`{}`", syntax.substr(0, bar));
    if (bar == std::string_view::npos) break;
    syntax.remove_prefix(bar + 1);
  }
  return text;
}

std::string value_cell(const Directive& directive) {
  switch (directive.kind) {
    case ValueKind::boolean:
      return "`true` \\| `false`";
    case ValueKind::integer:
      return "integer " + describe_range(directive.min, directive.max);
    case ValueKind::choice:
      return quoted_choices(directive.syntax);
    case ValueKind::duration:
      return "N`h` \\| N`d` \\| N`w` \\| N`m` \\| N`y`";
    case ValueKind::string:
    case ValueKind::special:
      break;
  }
  return escape_cell(directive.syntax);
}

std::string default_cell(std::string_view default_text) {
  if (default_text.starts_with('(')) return std::string(default_text);
  return fmt::format("`{}`", default_text);
}

std::string row(const Directive& directive) {
  const char* origin = directive.origin == Origin::stellwerk ? " *(Stellwerk)*" : "";
  return fmt::format("| `{}`{} | {} | {} | {} |\n", directive.name, origin, value_cell(directive),
                     default_cell(directive.default_text), escape_cell(directive.doc));
}

std::string table(std::string_view title, bool listener_scope) {
  std::string text = fmt::format("### {}\n\n", title);
  text += "| Directive | Value | Default | Description |\n|---|---|---|---|\n";
  for (const auto& directive : directives()) {
    if ((directive.scope != Scope::global) == listener_scope) text += row(directive);
  }
  return text;
}

std::string unsupported_table() {
  std::vector<std::pair<std::string_view, std::string>> features;  // in order of first mention
  for (const auto& key : unsupported_mosquitto_keys()) {
    auto found = std::find_if(features.begin(), features.end(),
                              [&](const auto& feature) { return feature.first == key.feature; });
    if (found == features.end()) found = features.insert(features.end(), {key.feature, ""});
    found->second += fmt::format("{}`{}`", found->second.empty() ? "" : ", ", key.name);
  }
  std::string text = "### mosquitto directives Stellwerk rejects\n\n| Feature | Keys |\n|---|---|\n";
  for (const auto& [feature, keys] : features) text += fmt::format("| {} | {} |\n", feature, keys);
  return text;
}

}  // namespace

std::string directives_markdown() {
  return table("Global directives", false) + "\n" + table("Listener directives", true) + "\n" +
         unsupported_table();
}

}  // namespace stellwerk::config

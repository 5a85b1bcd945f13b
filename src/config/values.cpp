// Value parsing for the directive kinds; see values.h.
#include "config/values.h"

#include <fmt/format.h>

#include <charconv>

namespace stellwerk::config {
namespace {

constexpr std::string_view kBlanks = " \t";

bool starts_comment(std::string_view word) { return !word.empty() && word.front() == '#'; }

Result<Value, std::string> parse_boolean(std::string_view rest) {
  auto word = single_word(rest);
  if (!word) return fail(word.error());
  if (*word == "true") return Value(true);
  if (*word == "false") return Value(false);
  return fail(fmt::format("expected `true` or `false`, got '{}'", *word));
}

Result<Value, std::string> parse_integer_value(const Directive& directive, std::string_view rest) {
  auto word = single_word(rest);
  if (!word) return fail(word.error());
  auto number = parse_integer(*word, directive.min, directive.max);
  if (!number) return fail(number.error());
  return Value(*number);
}

Result<Value, std::string> parse_choice(const Directive& directive, std::string_view rest) {
  auto word = single_word(rest);
  if (!word) return fail(word.error());
  if (!is_choice(directive.syntax, *word)) {
    return fail(fmt::format("expected {}, got '{}'", describe_choices(directive.syntax), *word));
  }
  return Value(std::string(*word));
}

Result<Value, std::string> parse_duration_value(std::string_view rest) {
  auto word = single_word(rest);
  if (!word) return fail(word.error());
  auto seconds = parse_duration(*word);
  if (!seconds) return fail(seconds.error());
  return Value(*seconds);
}

}  // namespace

std::string_view trim(std::string_view text) {
  const auto first = text.find_first_not_of(kBlanks);
  if (first == std::string_view::npos) return {};
  const auto last = text.find_last_not_of(kBlanks);
  return text.substr(first, last - first + 1);
}

KeyAndRest split_key(std::string_view line) {
  line = trim(line);
  const auto end = line.find_first_of(kBlanks);
  if (end == std::string_view::npos) return {line, {}};
  return {line.substr(0, end), trim(line.substr(end))};
}

std::vector<std::string_view> words(std::string_view rest) {
  std::vector<std::string_view> result;
  auto next = split_key(rest);
  while (!next.key.empty() && !starts_comment(next.key)) {
    result.push_back(next.key);
    next = split_key(next.rest);
  }
  return result;
}

Result<std::string_view, std::string> single_word(std::string_view rest) {
  const auto [word, remainder] = split_key(rest);
  if (!remainder.empty() && !starts_comment(remainder)) {
    return fail(fmt::format("expected one value, got extra text '{}'", remainder));
  }
  return word;
}

Result<int64_t, std::string> parse_integer(std::string_view word, int64_t min, int64_t max) {
  int64_t number = 0;
  const auto [end, error] = std::from_chars(word.data(), word.data() + word.size(), number);
  const bool whole_word = end == word.data() + word.size();
  if (error == std::errc::result_out_of_range || (error == std::errc() && whole_word &&
                                                  (number < min || number > max))) {
    return fail(fmt::format("'{}' is out of range, allowed: {}", word, describe_range(min, max)));
  }
  if (error != std::errc() || !whole_word) {
    return fail(fmt::format("expected an integer, got '{}'", word));
  }
  return number;
}

Result<int64_t, std::string> parse_duration(std::string_view word) {
  static constexpr std::string_view kUnits = "hdwmy";
  static constexpr int64_t kSeconds[] = {3600, 86400, 7 * 86400, 30 * 86400, 365 * 86400};
  const std::string message =
      fmt::format("expected a duration like 12h, 14d, 2w, 3m or 1y, got '{}'", word);
  const auto unit = word.empty() ? std::string_view::npos : kUnits.find(word.back());
  if (unit == std::string_view::npos) return fail(message);
  const int64_t multiplier = kSeconds[unit];
  auto count = parse_integer(word.substr(0, word.size() - 1), 1, kNoUpperLimit / multiplier);
  if (!count) return fail(message);
  return *count * multiplier;
}

bool is_choice(std::string_view syntax, std::string_view word) {
  while (!syntax.empty()) {
    const auto bar = syntax.find('|');
    if (syntax.substr(0, bar) == word) return true;
    if (bar == std::string_view::npos) break;
    syntax.remove_prefix(bar + 1);
  }
  return false;
}

std::string describe_choices(std::string_view syntax) {
  std::string text;
  while (!syntax.empty()) {
    const auto bar = syntax.find('|');
    const bool last = bar == std::string_view::npos;
    if (!text.empty()) text += last ? " or " : ", ";
    text += fmt::format("`{}`", syntax.substr(0, bar));
    if (last) break;
    syntax.remove_prefix(bar + 1);
  }
  return text;
}

std::string describe_range(int64_t min, int64_t max) {
  if (max == kNoUpperLimit) return fmt::format(">= {}", min);
  return fmt::format("{}..{}", min, max);
}

Result<Value, std::string> parse_value(const Directive& directive, std::string_view rest) {
  switch (directive.kind) {
    case ValueKind::boolean:
      return parse_boolean(rest);
    case ValueKind::integer:
      return parse_integer_value(directive, rest);
    case ValueKind::choice:
      return parse_choice(directive, rest);
    case ValueKind::duration:
      return parse_duration_value(rest);
    case ValueKind::string:
    case ValueKind::special:
      break;
  }
  return Value(std::string(rest));
}

}  // namespace stellwerk::config

// Turning the text after a key into a value of the kind the directive table
// names. Errors are messages only; the parser adds file, line and key.
//
// Splitting is on spaces and tabs. A value written as one word may be followed
// by a comment starting with '#'; a string value is the rest of the line as
// written, since paths may contain '#' (mosquitto reads them the same way).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "config/directives.h"

namespace stellwerk::config {

std::string_view trim(std::string_view text);

struct KeyAndRest {
  std::string_view key;
  std::string_view rest;  // trimmed; empty when the line has only a key
};
KeyAndRest split_key(std::string_view line);

// The words of `rest` up to a word that starts a comment ('#').
std::vector<std::string_view> words(std::string_view rest);

// `rest` as exactly one word (a trailing comment is allowed).
Result<std::string_view, std::string> single_word(std::string_view rest);

Result<int64_t, std::string> parse_integer(std::string_view word, int64_t min, int64_t max);
// "<n>h|d|w|m|y" in seconds (a month is 30 days, a year 365), n >= 1.
Result<int64_t, std::string> parse_duration(std::string_view word);

bool is_choice(std::string_view syntax, std::string_view word);
// "a|b|c" as "`a`, `b` or `c`" for messages.
std::string describe_choices(std::string_view syntax);
// "0..65535", ">= 0" and the like, for messages and docs.
std::string describe_range(int64_t min, int64_t max);

// Parses `rest` according to `directive.kind`. `rest` is not empty.
Result<Value, std::string> parse_value(const Directive& directive, std::string_view rest);

}  // namespace stellwerk::config

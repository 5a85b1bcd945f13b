// Line-by-line reading shared by the password and ACL file parsers: numbered
// lines (for error messages), CR LF accepted, whitespace trimmed, and the
// whole file read at once (these files are small and read on start and reload).
#pragma once

#include <string>
#include <string_view>

#include "auth/error.h"
#include "base/result.h"

namespace stellwerk::auth {

// Calls visit(line_number, line) for each line of `text`, numbered from 1,
// without its line ending. Stops early when visit returns false.
template <typename Visit>
void for_each_line(std::string_view text, Visit visit) {
  size_t number = 0;
  while (!text.empty()) {
    const size_t end = text.find('\n');
    std::string_view line = text.substr(0, end);
    text.remove_prefix(end == std::string_view::npos ? text.size() : end + 1);
    if (line.ends_with('\r')) line.remove_suffix(1);
    if (!visit(++number, line)) return;
  }
}

inline bool is_blank(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

inline std::string_view trim(std::string_view text) {
  while (!text.empty() && is_blank(text.front())) text.remove_prefix(1);
  while (!text.empty() && is_blank(text.back())) text.remove_suffix(1);
  return text;
}

// The file's contents, or an Error naming the file and the system's reason.
Result<std::string, Error> read_text_file(const std::string& path);

}  // namespace stellwerk::auth

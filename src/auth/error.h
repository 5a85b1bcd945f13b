// The error of the auth module: what is wrong, and in which file and line.
//
// Password and ACL files are edited by hand, so a message must lead the
// operator to the line to fix: describe() gives "path:line: message", the
// form compilers use and editors understand.
#pragma once

#include <fmt/format.h>

#include <cstddef>
#include <string>

namespace stellwerk::auth {

struct Error {
  std::string path;  // the file; empty when the text did not come from a file
  size_t line = 0;   // 1-based; 0 when the problem is the whole file (unreadable)
  std::string message;

  std::string describe() const {
    if (path.empty()) return line == 0 ? message : fmt::format("line {}: {}", line, message);
    if (line == 0) return fmt::format("{}: {}", path, message);
    return fmt::format("{}:{}: {}", path, line, message);
  }
};

}  // namespace stellwerk::auth

// Reading a whole configuration file; see text_lines.h.
#include "auth/text_lines.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace stellwerk::auth {

Result<std::string, Error> read_text_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return fail(Error{path, 0, fmt::format("cannot open: {}", std::strerror(errno))});
  std::ostringstream contents;
  contents << in.rdbuf();
  if (in.bad()) return fail(Error{path, 0, fmt::format("cannot read: {}", std::strerror(errno))});
  return contents.str();
}

}  // namespace stellwerk::auth

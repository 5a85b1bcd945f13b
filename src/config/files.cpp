// The disk and in-memory implementations of ConfigFiles. The disk version uses
// the error_code overloads of std::filesystem so that nothing here throws.
#include "config/files.h"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace stellwerk::config {
namespace {

namespace fs = std::filesystem;

class DiskFiles final : public ConfigFiles {
 public:
  Result<std::string, std::string> read(const std::string& path) const override {
    std::error_code error;
    if (fs::is_directory(path, error)) return fail(std::string("is a directory"));
    std::ifstream in(path, std::ios::binary);
    if (!in) return fail(std::string(std::strerror(errno)));
    std::ostringstream contents;
    contents << in.rdbuf();
    if (in.bad()) return fail(std::string("read error"));
    return contents.str();
  }

  Result<std::vector<std::string>, std::string> list(const std::string& path) const override {
    std::error_code error;
    fs::directory_iterator it(path, error);
    std::vector<std::string> names;
    for (; !error && it != fs::directory_iterator(); it.increment(error)) {
      std::error_code type_error;
      // is_regular_file follows symlinks, so a linked file counts as a file.
      if (it->is_regular_file(type_error)) names.push_back(it->path().filename().string());
    }
    if (error) return fail(error.message());
    return names;
  }
};

}  // namespace

const ConfigFiles& disk_files() {
  static const DiskFiles files;
  return files;
}

void MemoryFiles::add_file(const std::string& path, std::string contents) {
  const bool is_new = files_.count(path) == 0;
  files_[path] = std::move(contents);
  const auto slash = path.rfind('/');
  if (!is_new || slash == std::string::npos) return;
  const std::string directory = slash == 0 ? "/" : path.substr(0, slash);
  directories_[directory].push_back(path.substr(slash + 1));
}

void MemoryFiles::add_directory(const std::string& path) { directories_[path]; }

Result<std::string, std::string> MemoryFiles::read(const std::string& path) const {
  const auto found = files_.find(path);
  if (found != files_.end()) return found->second;
  if (directories_.count(path) != 0) return fail(std::string("is a directory"));
  return fail(std::string("No such file or directory"));
}

Result<std::vector<std::string>, std::string> MemoryFiles::list(const std::string& path) const {
  const auto found = directories_.find(path);
  if (found == directories_.end()) return fail(std::string("No such file or directory"));
  return found->second;
}

}  // namespace stellwerk::config

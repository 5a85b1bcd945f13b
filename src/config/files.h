// Where configuration files come from: the real disk, or memory in tests.
//
// The parser reads the main file and include_dir directories only through
// this interface, so tests stay hermetic (DESIGN.md, principle 7).
#pragma once

#include <map>
#include <string>
#include <vector>

#include "base/result.h"

namespace stellwerk::config {

class ConfigFiles {
 public:
  virtual ~ConfigFiles() = default;
  // The whole file at `path`, or why it could not be read.
  virtual Result<std::string, std::string> read(const std::string& path) const = 0;
  // Names (not paths) of the entries in directory `path` that can be read as
  // files, in no particular order; or why the directory could not be read.
  virtual Result<std::vector<std::string>, std::string> list(const std::string& path) const = 0;
};

// The real file system. Lives for the whole program.
const ConfigFiles& disk_files();

// Files held in memory: a directory exists once a file inside it is added, or
// when added explicitly (for an empty include_dir).
class MemoryFiles final : public ConfigFiles {
 public:
  void add_file(const std::string& path, std::string contents);
  void add_directory(const std::string& path);

  Result<std::string, std::string> read(const std::string& path) const override;
  Result<std::vector<std::string>, std::string> list(const std::string& path) const override;

 private:
  std::map<std::string, std::string> files_;
  std::map<std::string, std::vector<std::string>> directories_;
};

}  // namespace stellwerk::config

// The file system as the store sees it: a handful of operations behind an
// interface, in the manner of LevelDB's Env, so that tests can run the store
// on an in-memory file system that loses unsynced data, tears writes and
// flips bits (memory_env.h) while production uses the real one (posix_env()).
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace stellwerk::store {

struct IoError {
  std::string message;  // operation, path and the system's reason
};
using IoStatus = Status<IoError>;
template <typename T>
using IoResult = Result<T, IoError>;

// A file open for appending. Not thread-safe: one owner at a time.
class WritableFile {
 public:
  virtual ~WritableFile() = default;
  // Writes all of `data` after what this object wrote before (from the
  // start: at the end of a created file, over the old bytes of one opened
  // by Env::overwrite), or fails.
  virtual IoStatus append(std::string_view data) = 0;
  // Makes what was appended durable (fdatasync).
  virtual IoStatus sync() = 0;
  virtual IoStatus close() = 0;
};

// All paths are absolute or relative to the working directory; the store
// only ever passes "<dir>/<name>". Implementations are thread-safe.
class Env {
 public:
  virtual ~Env() = default;
  // Creates `path` (or truncates it) for appending, with mode 0600.
  virtual IoResult<std::unique_ptr<WritableFile>> create(const std::string& path) = 0;
  // Opens the existing `path` to write from its start over the bytes it
  // holds, with mode 0600; bytes past the last write stay as they were. The
  // log reuses its segment files this way, whose pages the page cache and
  // the file system hold already. An Env that cannot fails (the caller
  // creates a new file instead).
  virtual IoResult<std::unique_ptr<WritableFile>> overwrite(const std::string& path) {
    return fail(IoError{"overwrite " + path + ": not supported"});
  }
  virtual IoResult<std::string> read_all(const std::string& path) = 0;
  // Names (not paths) of the entries in `dir`, without "." and "..".
  virtual IoResult<std::vector<std::string>> list(const std::string& dir) = 0;
  // Creates `dir` and missing parents with mode 0700; an existing one is fine.
  virtual IoStatus create_dir(const std::string& dir) = 0;
  // Replaces `to` atomically if it exists.
  virtual IoStatus rename(const std::string& from, const std::string& to) = 0;
  virtual IoStatus remove(const std::string& path) = 0;
  // Makes creations, renames and removals in `dir` durable (fsync of the directory).
  virtual IoStatus sync_dir(const std::string& dir) = 0;
};

// The real file system. Lives for the whole process.
Env& posix_env();

std::string join_path(const std::string& dir, std::string_view name);

}  // namespace stellwerk::store

// An in-memory Env that can fail the way disks and machines fail, for the
// recovery tests and the fuzzer.
//
// It keeps two views of every directory: the live one, which reads see, and
// the durable one, which a power loss falls back to. File data becomes
// durable through WritableFile::sync(); creations, renames and removals
// through sync_dir(). A crash can be scheduled at any mutating operation:
// that operation and every later one fail, as if the process had died there,
// and an append that dies may leave a torn prefix of its data behind.
#pragma once

#include <cstddef>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>

#include "store/env.h"

namespace stellwerk::store {

class MemoryEnv final : public Env {
 public:
  // What a power loss does to data that was written but not synced.
  enum class Unsynced { drop, keep_half, keep };

  IoResult<std::unique_ptr<WritableFile>> create(const std::string& path) override;
  IoResult<std::unique_ptr<WritableFile>> overwrite(const std::string& path) override;
  IoResult<std::string> read_all(const std::string& path) override;
  IoResult<std::vector<std::string>> list(const std::string& dir) override;
  IoStatus create_dir(const std::string& dir) override;
  IoStatus rename(const std::string& from, const std::string& to) override;
  IoStatus remove(const std::string& path) override;
  IoStatus sync_dir(const std::string& dir) override;

  // --- faults
  // Lets `operations` more mutating operations (create, append, sync, rename,
  // remove, sync_dir) succeed and fails every one after. With `torn`, the
  // append that fails first writes half of its data.
  void crash_after(size_t operations, bool torn);
  bool crashed() const;
  // Mutating operations done so far (to plan crash_after in a later run).
  size_t operations() const;
  // The machine restarts: faults are cleared and the live view becomes the
  // durable one, with unsynced data treated as `unsynced` says.
  void power_loss(Unsynced unsynced);
  // The process restarts, the machine did not: all written data stays.
  void restart_process();

  // --- direct access for tests; these changes are durable at once
  std::optional<std::string> contents(const std::string& path) const;
  void set_contents(const std::string& path, std::string data);
  void flip_bit(const std::string& path, size_t bit);
  std::vector<std::string> names(const std::string& dir) const;

 private:
  // What a power loss leaves is data[0, synced) followed by `stale`: the
  // durable bytes past `synced` of a file being overwritten (empty for one
  // that is only appended to).
  struct FileData {
    std::string data;
    size_t synced = 0;
    std::string stale;
    size_t written_end = 0;  // the end of the last write
  };
  using FilePtr = std::shared_ptr<FileData>;
  class File;

  // Counts one mutating operation; false when the process is "dead".
  bool allow_operation();
  IoStatus append_to(const FilePtr& file, size_t& position, std::string_view data, const std::string& path);
  static void write_at(FileData& file, size_t& position, std::string_view data);
  IoStatus sync_file(const FilePtr& file, const std::string& path);
  std::vector<std::string> names_locked(const std::string& dir) const;
  static std::string parent_of(const std::string& path);

  mutable std::mutex mutex_;
  std::map<std::string, FilePtr> live_;
  std::map<std::string, FilePtr> durable_;
  std::set<std::string> dirs_;
  size_t operations_ = 0;
  std::optional<size_t> crash_at_;
  bool torn_ = false;
  bool torn_done_ = false;
};

}  // namespace stellwerk::store

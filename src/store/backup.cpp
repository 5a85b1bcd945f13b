// Writing a backup directory with the same pieces the store itself uses:
// the snapshot writer and a segment started by SegmentLog.
#include "store/backup.h"

#include <optional>

#include "store/frame.h"
#include "store/segment_log.h"
#include "store/snapshot.h"

namespace stellwerk::store {
namespace {

IoStatus require_empty(Env& env, const std::string& dir) {
  auto names = env.list(dir);
  if (!names) return fail(names.error());
  if (!names->empty()) return fail(IoError{"backup directory " + dir + " is not empty"});
  return {};
}

// The directory entry of a newly created backup directory must survive a
// power loss too, or a synced backup could vanish with its parent's metadata.
IoStatus sync_parent(Env& env, const std::string& dir) {
  std::string path = dir;
  while (path.size() > 1 && path.back() == '/') path.pop_back();
  const size_t slash = path.rfind('/');
  if (slash == std::string::npos) return env.sync_dir(".");
  return env.sync_dir(slash == 0 ? "/" : path.substr(0, slash));
}

IoStatus create_backup_dir(Env& env, const std::string& dir) {
  if (dir.empty()) return fail(IoError{"backup directory: empty path"});
  if (auto status = env.create_dir(dir); !status) return status;
  return require_empty(env, dir);
}

IoStatus write_file(Env& env, const std::string& path, std::string_view bytes) {
  auto file = env.create(path);
  if (!file) return fail(file.error());
  if (auto status = (*file)->append(bytes); !status) return status;
  if (auto status = (*file)->sync(); !status) return status;
  return (*file)->close();
}

// Copies `from`, or its first `limit` bytes (which it must have).
IoStatus copy_file(Env& env, const std::string& from, const std::string& to, std::optional<uint64_t> limit) {
  auto bytes = env.read_all(from);
  if (!bytes) return fail(bytes.error());
  const uint64_t size = limit.value_or(bytes->size());
  if (bytes->size() < size) return fail(IoError{from + " is shorter than the backup needs"});
  return write_file(env, to, std::string_view(*bytes).substr(0, size));
}

}  // namespace

IoStatus copy_backup(Env& env, const std::string& store_dir, const std::string& dir, const std::string& segment,
                     uint64_t segment_bytes) {
  if (auto status = create_backup_dir(env, dir); !status) return status;
  const std::string snapshot(frame::kSnapshotName);
  if (auto status = copy_file(env, join_path(store_dir, snapshot), join_path(dir, snapshot), std::nullopt); !status)
    return status;
  if (auto status = copy_file(env, join_path(store_dir, segment), join_path(dir, segment), segment_bytes); !status)
    return status;
  if (auto status = env.sync_dir(dir); !status) return status;
  return sync_parent(env, dir);
}

IoStatus write_backup(Env& env, const std::string& dir, const State& state, Sequence sequence) {
  if (auto status = create_backup_dir(env, dir); !status) return status;
  if (auto status = write_snapshot(env, dir, state, sequence); !status) return status;
  SegmentLog log(env, dir);
  // Syncs the segment's header and the directory.
  if (auto status = log.start_segment(sequence + 1); !status) return status;
  return sync_parent(env, dir);
}

}  // namespace stellwerk::store

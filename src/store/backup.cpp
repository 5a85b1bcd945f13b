// Writing a backup directory with the same pieces the store itself uses:
// the snapshot writer and a segment started by SegmentLog.
#include "store/backup.h"

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

}  // namespace

IoStatus write_backup(Env& env, const std::string& dir, const State& state, Sequence sequence) {
  if (dir.empty()) return fail(IoError{"backup directory: empty path"});
  if (auto status = env.create_dir(dir); !status) return status;
  if (auto status = require_empty(env, dir); !status) return status;
  if (auto status = write_snapshot(env, dir, state, sequence); !status) return status;
  SegmentLog log(env, dir);
  // Syncs the segment's header and the directory.
  if (auto status = log.start_segment(sequence + 1); !status) return status;
  return sync_parent(env, dir);
}

}  // namespace stellwerk::store

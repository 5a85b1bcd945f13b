// The log's files: the segment being appended to and the older ones that the
// next snapshot makes obsolete. Not thread-safe: the Store guards it with its
// log mutex. Segments are named after
// their first sequence number; a new one starts after each snapshot.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "store/env.h"
#include "store/types.h"

namespace stellwerk::store {

class SegmentLog {
 public:
  // `env` must outlive the log.
  SegmentLog(Env& env, std::string dir) : env_(env), dir_(std::move(dir)) {}

  // Closes the current segment (it becomes old) and starts one whose first
  // record will be `first`. The new file and its header are durable, in the
  // directory too, before this returns: records synced into it later must
  // not be lost with a directory entry that was not.
  IoStatus start_segment(Sequence first);
  IoStatus append(std::string_view frames);
  IoStatus sync();
  // For a sync outside the caller's lock: marks the log synced and returns
  // the file to sync, which stays open until the next start_segment(). An
  // append() meanwhile marks the log unsynced again.
  WritableFile& sync_later();
  // Removes every segment but the current one (after a durable snapshot).
  IoStatus remove_old_segments();
  // Segment files found by recovery, to be removed after the first snapshot.
  void adopt_old(std::vector<std::string> names);

  // The current segment's file name (in the store's directory).
  const std::string& current_name() const { return current_; }
  // Bytes appended to the current segment, header included.
  uint64_t current_bytes() const { return bytes_; }
  bool unsynced() const { return unsynced_; }

 private:
  Env& env_;
  std::string dir_;
  std::unique_ptr<WritableFile> file_;
  std::string current_;
  std::vector<std::string> old_;
  uint64_t bytes_ = 0;
  bool unsynced_ = false;
};

}  // namespace stellwerk::store

// The log's files: the segment being appended to and the older ones that the
// next snapshot makes obsolete. Not thread-safe: the Store guards it with its
// log mutex, and calls roll(), take_old_segments() and remove_segments() from
// one thread at a time (its store thread). Segments are named after their
// first sequence number; a new one starts after each snapshot.
//
// Segment files are reused: of the segments a snapshot makes obsolete, the
// one closed last is renamed to kSpareSegmentName instead of removed (when
// it is at most `spare_limit` bytes), and the next segment is written over
// it. Writing into pages the page cache and the file system hold already
// spares the writer the allocation of new ones, and a sync the update of
// the file's size and extents. Each segment's header carries a new random
// salt that its frames' CRCs depend on, so that the old bytes after its end
// never read as records (docs/formats/store.md).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "store/env.h"
#include "store/types.h"

namespace stellwerk::store {

class SegmentLog {
 public:
  // `env` must outlive the log. `spare_limit` 0: no file is reused.
  SegmentLog(Env& env, std::string dir, uint64_t spare_limit = 0)
      : env_(env), dir_(std::move(dir)), spare_limit_(spare_limit) {}

  // Closes the current segment (it becomes old) and starts one whose first
  // record will be `first`. The new file and its header are durable, in the
  // directory too, before this returns: records synced into it later must
  // not be lost with a directory entry that was not.
  IoStatus start_segment(Sequence first);

  // start_segment() in two steps, for a caller that must not hold its lock
  // while the disk works. roll() (under the lock) creates the new segment,
  // writes its header and takes appends from then on; settle() (outside the
  // lock, before any other sync of the log) makes the old segment's last
  // records durable, then the new file and its directory entry.
  class Rolled {
   public:
    IoStatus settle();

   private:
    friend class SegmentLog;
    Rolled(Env& env, const std::string& dir, std::unique_ptr<WritableFile> previous, WritableFile& current)
        : env_(&env), dir_(&dir), previous_(std::move(previous)), current_(&current) {}
    Env* env_;
    const std::string* dir_;
    std::unique_ptr<WritableFile> previous_;  // null for the first segment
    WritableFile* current_;                   // stays open until the next roll
  };
  IoResult<Rolled> roll(Sequence first);

  // Frames appended to the current segment must be sealed with this seed.
  uint32_t crc_seed() const { return seed_; }
  IoStatus append(std::string_view frames);
  IoStatus sync();
  // For a sync outside the caller's lock: marks the log synced and returns
  // the file to sync, which stays open until the next start_segment(). An
  // append() meanwhile marks the log unsynced again.
  WritableFile& sync_later();
  // Removes every segment but the current one (after a durable snapshot).
  IoStatus remove_old_segments();
  // The same in two steps, for a caller that must not hold its lock while
  // the file system frees a large file: take_old_segments() under the lock,
  // remove_segments() outside it (it reads nothing the lock guards).
  std::vector<std::string> take_old_segments();
  IoStatus remove_segments(const std::vector<std::string>& names);
  // Segment files found by recovery, to be removed after the first snapshot.
  void adopt_old(std::vector<std::string> names);

  // The current segment's file name (in the store's directory).
  const std::string& current_name() const { return current_; }
  // Bytes appended to the current segment, header included.
  uint64_t current_bytes() const { return bytes_; }
  bool unsynced() const { return unsynced_; }

 private:
  // A new file for the current segment, holding `header`: the spare if
  // there is one, else a created file.
  IoResult<std::unique_ptr<WritableFile>> open_segment(const std::string& header);
  IoResult<std::unique_ptr<WritableFile>> reuse_spare(const std::string& header, const std::string& path);
  bool keep_as_spare(const std::string& name);

  struct Closed {
    std::string name;
    uint64_t bytes = 0;
  };

  Env& env_;
  std::string dir_;
  uint64_t spare_limit_;
  std::unique_ptr<WritableFile> file_;
  std::string current_;
  std::vector<std::string> old_;
  uint64_t bytes_ = 0;
  uint32_t seed_ = 0;
  bool unsynced_ = false;
  Closed last_closed_;  // the segment the last roll() closed
  bool has_spare_ = false;
};

}  // namespace stellwerk::store

// Snapshots: the whole state as records in one file, "state.snap".
//
//   file = header(magic "STWSNP01", sequence) | frame* | frame(snapshot_end)
//
// The header's sequence is the last log record the snapshot includes. A
// snapshot is written to "state.snap.tmp", synced, renamed over the old one
// and the directory synced, so a crash leaves either the old or the new
// snapshot, never a mix.
//
// A snapshot taken while the broker runs is written in slices: each starts
// with a `slice` record naming the sequence its sessions were captured at,
// which may be later than the header's. Recovery replays the log from the
// header's sequence on and skips, for those sessions, the records their
// slice already holds (recovery.h).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "store/batch.h"
#include "store/env.h"
#include "store/state.h"

namespace stellwerk::store {

// Writes "state.snap.tmp" record by record, in chunks (a large state needs
// no second copy in memory), and puts it in place once complete.
class SnapshotWriter {
 public:
  // Creates the file with its header: the snapshot holds every log record
  // up to `sequence`.
  static IoResult<SnapshotWriter> start(Env& env, const std::string& dir, Sequence sequence);

  // The sessions added from here on were captured once the log held every
  // record up to `captured_at` (>= the header's sequence).
  void begin_slice(Sequence captured_at);
  void add(const Record& record);
  // The records of a batch that was built for this and never committed
  // (SnapshotWalk::next()); leaves it empty.
  void add_batch(Batch& batch);
  // Ends the file, syncs and closes it: "state.snap.tmp" is complete. The
  // first error of any step so far, if one happened.
  IoStatus finish();
  // Puts a finished "state.snap.tmp" in place of "state.snap" and syncs the
  // directory.
  static IoStatus publish(Env& env, const std::string& dir);

 private:
  SnapshotWriter(std::unique_ptr<WritableFile> file, Sequence sequence);
  void flush_if_full();
  void flush();

  std::unique_ptr<WritableFile> file_;
  Sequence sequence_;
  std::string buffer_;
  uint64_t records_ = 0;
  IoStatus status_;
};

IoStatus write_snapshot(Env& env, const std::string& dir, const State& state, Sequence sequence);

struct SnapshotReadResult {
  std::optional<Sequence> sequence;  // nullopt: the header is damaged
  bool complete = false;             // every frame valid and the end record present
  size_t records = 0;                // records applied
  size_t damage_offset = 0;          // where reading stopped when not complete
  // The sessions whose slice was captured after the header's sequence, with
  // the sequence it was captured at; empty for a snapshot taken at once.
  std::unordered_map<std::string, Sequence> captured_after;
};

// Applies the snapshot's valid records to `state`, stopping at the first
// damage: a damaged snapshot still yields what it holds before the damage.
SnapshotReadResult read_snapshot(std::string_view bytes, State& state);

}  // namespace stellwerk::store

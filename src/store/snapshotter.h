// The snapshot thread: it writes snapshots and backups, so that the store
// thread, which group-commits the log, never waits for one.
//
// DESIGN. Once the broker is attached as a SnapshotSource (use_source()), a
// snapshot at S walks the broker's own state a slice at a time, each under
// the broker lock and tagged with the sequence it was captured at
// (docs/formats/store.md, "Snapshots taken in slices"), and leaves the file
// for the store thread to publish once the log is durable through the last
// slice. Nothing is done per record between snapshots.
//
// Before that (the snapshot of the recovered state at open), and for a store
// used without a broker, it keeps a mirror: the store thread hands over
// every group of frames it has written (apply()) and, when a snapshot is
// due, first starts a new log segment at S + 1 and then asks for a snapshot
// at S (snapshot()). Jobs run in the order they were given, so when the
// snapshot job runs the mirror holds exactly the records up to S: a
// consistent cut with no copy of the state. The mirror does not decode
// message bodies: the store thread hands over, with the frames, the
// broker's own messages that their message_put frames carry (BatchData),
// and the mirror keeps those, shared. Its price is work per record and a
// second index of the state, which is why the broker's walk replaces it.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "store/env.h"
#include "store/snapshot_source.h"
#include "store/state.h"

namespace stellwerk::store {

// What a snapshot or backup job reports back, on the snapshotter's thread.
struct SnapshotDone {
  enum class Kind { snapshot, backup } kind = Kind::snapshot;
  Sequence sequence = 0;
  uint64_t ticket = 0;  // the caller's, handed back unchanged
  IoStatus status;
  // A snapshot taken from a SnapshotSource is complete in "state.snap.tmp"
  // but not yet in place: its slices may hold records up to
  // `captured_through`, so the log must be durable that far first.
  bool published = true;
  Sequence captured_through = 0;
};

class Snapshotter {
 public:
  // `env` must outlive this. `finished` runs on the snapshotter's thread
  // after each snapshot or backup job; it must be quick.
  Snapshotter(Env& env, std::string dir, State state, std::function<void(SnapshotDone)> finished);
  // Runs every job given so far, then stops the thread.
  ~Snapshotter();
  Snapshotter(const Snapshotter&) = delete;
  Snapshotter& operator=(const Snapshotter&) = delete;

  // Sealed frames as written to the log, whole batches only, with the
  // bodies their message_put frames carry, in frame order (BatchData).
  void apply(std::string frames, std::vector<record::MessagePut> bodies);
  // Writes the mirror as "state.snap" of the store's directory; the mirror
  // must by then hold exactly the records up to `sequence`.
  void snapshot(Sequence sequence, uint64_t ticket);
  // Writes the mirror as a backup into `directory` (see store/backup.h).
  void backup(std::string directory, Sequence sequence, uint64_t ticket);
  // From the jobs given after this on, snapshots come from `source` (which
  // must outlive this) and leave "state.snap.tmp" for the store to publish;
  // the mirror is dropped, and apply() must not be called any more.
  void use_source(SnapshotSource& source);
  // Copies the published snapshot at `sequence` and the first `log_bytes`
  // of the log segment `segment` into `directory` (store/backup.h).
  void copy_backup(std::string directory, std::string segment, uint64_t log_bytes, Sequence sequence,
                   uint64_t ticket);

 private:
  struct Job {
    enum class Kind { frames, snapshot, backup, use_source, copy_backup } kind = Kind::frames;
    std::string data;  // frames, or the backup directory
    std::vector<record::MessagePut> bodies;  // of the frames
    Sequence sequence = 0;
    uint64_t ticket = 0;
    SnapshotSource* source = nullptr;  // use_source
    std::string segment;               // copy_backup: the segment and how much of it
    uint64_t log_bytes = 0;
  };

  void push(Job job);
  void run();
  void apply_frames(std::string_view frames, std::vector<record::MessagePut>& bodies);
  // Applies the body `put_payload` encodes from `bodies` (the broker's own
  // message), when it is the next one there; false otherwise.
  bool take_body(std::string_view put_payload, std::vector<record::MessagePut>& bodies, size_t& next_body);
  void apply_message_put_inflight(std::string_view payload, std::vector<record::MessagePut>& bodies,
                                  size_t& next_body);
  // Applies the frame from views when it is of a type every delivery
  // writes; false for the other types.
  bool apply_from_view(RecordType type, std::string_view payload);
  void write(const Job& job);
  SnapshotDone write_from_source(Sequence sequence);

  Env& env_;
  const std::string dir_;
  std::function<void(SnapshotDone)> finished_;

  std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<Job> jobs_;  // guarded by mutex_
  bool stopping_ = false;  // guarded by mutex_

  State state_;  // the snapshotter's thread only, after construction
  SnapshotSource* source_ = nullptr;  // the snapshotter's thread only
  InflightEntryView inflight_entry_;  // apply_from_view's, kept for its vector
  std::thread thread_;
};

}  // namespace stellwerk::store

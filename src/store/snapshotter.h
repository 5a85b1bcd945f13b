// The snapshot thread: it keeps the store's mirror of the broker's state and
// writes snapshots and backups from it, so that the store thread, which
// group-commits the log, never waits for a snapshot.
//
// DESIGN. The store thread hands over every group of frames it has written
// (apply()) and, when a snapshot is due, first starts a new log segment at
// S + 1 and then asks for a snapshot at S (snapshot()). Jobs run in the order
// they were given, so when the snapshot job runs the mirror holds exactly the
// records up to S, and nothing after: the snapshot is a consistent cut at S
// with no copy of the state. Meanwhile the store thread goes on writing to
// the new segment; its frames wait in the queue until the snapshot is done.
// Recovery is unchanged: the newest complete snapshot plus every segment
// after it. Until the snapshot at S is durable the old snapshot and the old
// segments stay, and together with the new segment they still recover
// everything; the store thread removes them once told the snapshot is done.
//
// The mirror does not decode message bodies: the store thread hands over,
// with the frames, the broker's own messages that their message_put frames
// carry (BatchData), and the mirror keeps those, shared. Only the small
// records (queue and in-flight moves, sessions) are decoded.
//
// The price is memory: the frames written while a snapshot runs are queued
// (a snapshot of a million retained messages takes seconds, see
// docs/performance.md), and applying frames costs this thread what it used
// to cost the store thread.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "store/env.h"
#include "store/state.h"

namespace stellwerk::store {

// What a snapshot or backup job reports back, on the snapshotter's thread.
struct SnapshotDone {
  enum class Kind { snapshot, backup } kind = Kind::snapshot;
  Sequence sequence = 0;
  uint64_t ticket = 0;  // the caller's, handed back unchanged
  IoStatus status;
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

 private:
  struct Job {
    enum class Kind { frames, snapshot, backup } kind = Kind::frames;
    std::string data;  // frames, or the backup directory
    std::vector<record::MessagePut> bodies;  // of the frames
    Sequence sequence = 0;
    uint64_t ticket = 0;
  };

  void push(Job job);
  void run();
  void apply_frames(std::string_view frames, std::vector<record::MessagePut>& bodies);
  // Applies the frame from views when it is of a type every delivery
  // writes; false for the other types.
  bool apply_from_view(RecordType type, std::string_view payload);
  void write(const Job& job);

  Env& env_;
  const std::string dir_;
  std::function<void(SnapshotDone)> finished_;

  std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<Job> jobs_;  // guarded by mutex_
  bool stopping_ = false;  // guarded by mutex_

  State state_;  // the snapshotter's thread only, after construction
  InflightEntryView inflight_entry_;  // apply_from_view's, kept for its vector
  std::thread thread_;
};

}  // namespace stellwerk::store

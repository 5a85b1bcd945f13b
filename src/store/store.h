// The durable store: a write-ahead log with group commit, periodic snapshots
// and recovery, on a thread of its own.
//
// DESIGN. The broker thread builds a Batch per action (or per worker loop
// turn) and commit()s it. Under SyncPolicy::always the batch's bytes join a
// pending list under a mutex, and commit() returns the sequence number of
// the batch's last record at once. The store thread takes everything
// pending, numbers and checksums it, writes it with one write() and one
// fdatasync, then reports the highest durable sequence (durable_up_to(),
// wait_durable(), Options::on_durable). While it syncs, new commits pile up
// and go out together next time: the slower the disk, the larger the groups.
// Under interval and never, durable means written to the OS, and commit()
// numbers, checksums and writes the batch itself under the log mutex: it
// returns with the batch durable (no on_durable call), and the store thread
// only syncs the log every sync_interval, outside that mutex. Either way the
// broker holds an acknowledgement until durable_up_to() reaches the sequence
// of the batch that made it safe (see docs/formats/store.md, "What the
// broker waits for").
//
// Snapshots do not hold up the log. Every autosave_interval, or when the
// current segment passes max_log_bytes, the store thread starts a new segment
// at S + 1 and asks the snapshot thread (store/snapshotter.h) for a snapshot
// at S, then goes on committing. With a SnapshotSource attached (the broker,
// store/snapshot_source.h) the snapshot thread walks the broker's state a
// slice at a time under the broker lock; the store thread syncs the log
// through the last slice, puts the snapshot in place and removes the older
// segments. Without one (a store used on its own) the snapshot thread keeps
// a mirror State of everything written and writes that. Open recovers,
// starts a new segment and snapshots: at once after damage or without a
// snapshot, else in the background from the recovered state (store.cpp,
// initial_snapshot()). Backups are written by the snapshot thread too.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "store/batch.h"
#include "store/env.h"
#include "store/recovery.h"
#include "store/segment_log.h"
#include "store/snapshot_source.h"
#include "store/snapshotter.h"
#include "store/state.h"

namespace stellwerk::store {

struct Options {
  std::string dir;  // created (mode 0700) if missing
  SyncPolicy policy = SyncPolicy::always;
  std::chrono::milliseconds sync_interval{1000};  // SyncPolicy::interval only
  std::chrono::seconds autosave_interval{1800};   // 0 = no timed snapshots
  uint64_t max_log_bytes = 64u << 20;             // snapshot when a segment grows past this; 0 = never
  // Called on the store thread with the highest durable sequence, each time
  // it grows (under SyncPolicy::always only: otherwise commit() returns with
  // its batch durable). Must be quick and must not call back into the Store.
  std::function<void(Sequence)> on_durable;
};

struct StoreStats {
  uint64_t writes = 0;     // write() calls of the log: one per group commit
  uint64_t records = 0;    // records written to the log
  uint64_t syncs = 0;      // fdatasync calls of the log
  uint64_t snapshots = 0;  // snapshots written, the one at open included (if one was needed)
  uint64_t log_bytes = 0;  // bytes written to the log
};

class Store {
 public:
  struct Opened;

  // Recovers the state in options.dir and starts the store thread. Fails
  // only when the directory cannot be created or read or the first snapshot
  // cannot be written; damaged files are set aside, not fatal.
  // `env` must outlive the store.
  static Result<Opened, StoreError> open(Env& env, Options options);

  // Writes what was committed, syncs it, and stops the thread.
  ~Store();
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  // --- broker thread. Batches are built and committed by one thread at a
  // time (the broker's lock serialises them); the Batch must not outlive
  // the Store. `time` converts the broker's steady-clock deadlines.
  Batch batch(const TimeBase& time);
  // Queues the batch for writing and empties it; returns the sequence to
  // wait for. An empty batch returns the last committed sequence and writes
  // nothing.
  Result<Sequence, StoreError> commit(Batch& batch);
  Result<Sequence, StoreError> commit(Batch&& batch) { return commit(batch); }
  // The sequence commit(batch) would return now. It stays the sequence that
  // batch's records so far get, as long as no other batch is committed
  // before it: so the broker, which owns the only batch, can hold output for
  // records it commits later (once per loop turn) without committing first.
  Sequence sequence_after(const Batch& batch) const;

  // The sequence of the last record committed (every batch committed so
  // far gets a sequence at most this). A SnapshotWalk reads it under the
  // broker's lock, after committing what the broker collected.
  Sequence committed() const;

  // From now on snapshots and backups are taken from `source`, which must
  // outlive the store (or make its walks abort once it cannot serve them),
  // and the store keeps no mirror of the state. Call once, after the broker
  // holds the recovered state: a walk of a broker that has not restored yet
  // would describe an empty state.
  void attach_source(SnapshotSource& source);

  // --- any thread
  Sequence durable_up_to() const { return durable_.load(std::memory_order_acquire); }
  // Blocks until `sequence` is durable (true), or the store failed or the
  // timeout passed (false). For shutdown and tests; the broker polls instead.
  bool wait_durable(Sequence sequence, std::chrono::milliseconds timeout);
  // Writes a snapshot now and returns when it is durable.
  Status<StoreError> checkpoint();
  // Online backup: writes the state at a durable sequence into `directory`
  // (see store/backup.h; created 0700 if missing, refused if not empty), in a
  // form a fresh broker opens as its persistence_location. Returns at once;
  // `done` runs later on the store thread with nothing or the reason it
  // failed, and must be quick and must not call back into the Store. Only
  // when the store is already stopping does `done` run at once, on the
  // calling thread.
  using BackupDone = std::function<void(Status<std::string>)>;
  void backup(std::string directory, BackupDone done);
  // An error once a write, sync or snapshot failed: from then on nothing
  // becomes durable and commit() fails. The cause is logged.
  Status<StoreError> health() const;
  StoreStats stats() const;

 private:
  enum class InitialSnapshot { now, background, none };
  static InitialSnapshot initial_snapshot(const Recovery& recovery);
  Store(Env& env, Options options, Sequence sequence, State state, SegmentLog log, InitialSnapshot initial);

  // store thread
  void run();
  struct BackupRequest {
    std::string directory;
    BackupDone done;
  };
  struct Work {
    BatchData batches;  // every batch committed since the last turn, in order
    std::vector<BackupRequest> backups;
    std::vector<SnapshotDone> finished;
    bool stop = false;
    uint64_t checkpoint_ticket = 0;
  };
  Work wait_for_work();
  std::optional<std::chrono::steady_clock::time_point> next_deadline();
  // Under SyncPolicy::always: writes and syncs what commits queued.
  void write(BatchData& batches);
  // Under mutex_: what commit() returns for a batch it does not write (empty,
  // or the store failed or is stopping), which it empties; nullopt otherwise.
  std::optional<Result<Sequence, StoreError>> refuse_locked(Batch& batch);
  // Under interval and never, on the committing thread.
  Result<Sequence, StoreError> write_at_commit(Batch& batch);
  // Seals, writes (and under always syncs) `batches`, publishes them durable
  // and queues them for the mirror; the log mutex is held. True when the
  // store thread should wake: its deadlines changed or the mirror's input is large.
  bool write_locked(BatchData& batches, bool report_durable);
  // Syncs everything written so far, with `new_segment` starts the next
  // segment, and hands it all to the mirror: the sequence a snapshot or
  // backup is taken at, or nullopt when the log failed. The log mutex is
  // held for no sync: commits go on meanwhile (into the new segment, which
  // this thread syncs only after the old one's tail).
  std::optional<Sequence> settle_log(bool new_segment);
  std::optional<Sequence> settle_failed(const IoError& error);  // logs the failure; nullopt
  // Hands what was written to the snapshot thread's mirror: at once when
  // `now` (a snapshot or backup must see it) or when much is waiting, else
  // after kMirrorDelay, so that the snapshot thread wakes for many groups at
  // a time rather than for each.
  void hand_to_mirror(bool now);
  void hand_to_mirror_locked(bool now);
  // `report`: tell Options::on_durable (only the store thread does).
  void publish_durable(Sequence sequence, bool report);
  void sync_if_due(bool force);
  bool snapshot_due();
  void start_snapshot();
  void start_backup(BackupRequest& request);
  void handle_finished(SnapshotDone& done);
  void handle_finished_snapshot(SnapshotDone& done);
  // A snapshot taken from the source: syncs the log through its last
  // slice's capture and puts it in place.
  IoStatus publish_slices(Sequence captured_through);
  // Backups waiting for a snapshot (with a source attached): copies of the
  // snapshot at `sequence` and the log after it, or their failure.
  void serve_waiting_backups(Sequence sequence);
  void fail_waiting_backups(const std::string& why);
  bool source_attached();
  void end_checkpoint(uint64_t ticket, bool ok);
  // Lets the snapshot thread finish its jobs and reports their outcomes.
  void stop_snapshotter();
  void fail_with(const IoError& error);
  bool failed() const;

  Env& env_;
  Options options_;
  MessageIds ids_;  // broker thread only
  // False once a snapshot source replaces the mirror: batches then keep no
  // messages for it. Batches the broker built before read it on their next body.
  std::atomic<bool> mirror_wants_bodies_{true};

  mutable std::mutex mutex_;
  std::condition_variable work_ready_;
  std::condition_variable progress_;    // durable_ grew, a checkpoint ended or the store failed
  BatchData pending_;                   // guarded by mutex_
  std::vector<BackupRequest> pending_backups_;  // guarded by mutex_
  std::vector<SnapshotDone> finished_;  // guarded by mutex_; from the snapshot thread
  Sequence committed_ = 0;              // guarded by mutex_
  bool stopping_ = false;               // guarded by mutex_
  uint64_t checkpoints_requested_ = 0;  // guarded by mutex_
  uint64_t checkpoints_taken_ = 0;      // guarded by mutex_; handed to the store thread
  uint64_t checkpoints_done_ = 0;       // guarded by mutex_
  bool last_checkpoint_ok_ = true;      // guarded by mutex_
  std::optional<StoreError> failure_;   // guarded by mutex_
  bool log_news_ = false;               // guarded by mutex_: see write_locked()
  std::atomic<Sequence> durable_{0};

  // The log and what was written to it: the store thread's, and under
  // interval and never also the committing thread's. Taken before mutex_.
  std::mutex log_mutex_;
  SegmentLog log_;
  Sequence written_ = 0;
  BatchData mirror_pending_;  // written, not yet handed to the snapshot thread
  bool source_attached_ = false;  // no mirror: see attach_source()
  std::chrono::steady_clock::time_point mirror_since_;
  BatchData commit_buffer_;  // write_at_commit()'s, kept for its capacity

  // store thread only
  Sequence snapshot_sequence_ = 0;  // of the newest durable snapshot
  bool snapshot_running_ = false;
  uint64_t checkpoint_wanted_ = 0;  // a ticket no snapshot has started for yet
  uint64_t backup_tickets_ = 0;
  std::map<uint64_t, BackupDone> backups_running_;
  std::vector<BackupRequest> backups_waiting_;  // for the next snapshot, with a source attached
  BatchData written_batches_;  // the buffers of the last write, kept for their capacity
  std::chrono::steady_clock::time_point last_sync_;
  std::chrono::steady_clock::time_point last_snapshot_;
  std::chrono::steady_clock::time_point snapshot_retry_at_;
  std::unique_ptr<Snapshotter> snapshotter_;

  std::atomic<uint64_t> stat_writes_{0}, stat_records_{0}, stat_syncs_{0}, stat_snapshots_{0}, stat_bytes_{0};
  std::thread thread_;
};

struct Store::Opened {
  std::unique_ptr<Store> store;
  RecoveredState state;
  RecoveryReport report;
};

}  // namespace stellwerk::store

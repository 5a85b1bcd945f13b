// The durable store: a write-ahead log with group commit, periodic snapshots
// and recovery, on a thread of its own.
//
// DESIGN. The broker thread builds a Batch per action and commit()s it: the
// batch's bytes join a pending list under a mutex, and commit() returns the
// sequence number of the batch's last record at once. The store thread takes
// everything pending, numbers and checksums it, writes it with one write()
// and, under SyncPolicy::always, one fdatasync, then reports the highest
// durable sequence (durable_up_to(), wait_durable(), Options::on_durable).
// While it writes, new commits pile up and go out together next time: the
// slower the disk, the larger the groups. The broker holds an
// acknowledgement until durable_up_to() reaches the sequence of the batch
// that made it safe (see docs/formats/store.md, "What the broker waits for").
//
// The store thread also applies each batch to its own State, so snapshots
// need nothing from the broker: every autosave_interval, or when the current
// segment passes max_log_bytes, it writes the state to a new snapshot and
// starts a new segment. Open recovers, then snapshots at once, so the
// directory always starts with one snapshot and one empty segment.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
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
#include "store/state.h"

namespace stellwerk::store {

struct Options {
  std::string dir;  // created (mode 0700) if missing
  SyncPolicy policy = SyncPolicy::always;
  std::chrono::milliseconds sync_interval{1000};  // SyncPolicy::interval only
  std::chrono::seconds autosave_interval{1800};   // 0 = no timed snapshots
  uint64_t max_log_bytes = 64u << 20;             // snapshot when a segment grows past this; 0 = never
  // Called on the store thread with the highest durable sequence, each time
  // it grows. Must be quick and must not call back into the Store.
  std::function<void(Sequence)> on_durable;
};

struct StoreStats {
  uint64_t writes = 0;     // write() calls of the log: one per group commit
  uint64_t records = 0;    // records written to the log
  uint64_t syncs = 0;      // fdatasync calls of the log
  uint64_t snapshots = 0;  // snapshots written, the one at open included
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
  // Queues the batch for writing; returns the sequence to wait for. An
  // empty batch returns the last committed sequence and writes nothing.
  Result<Sequence, StoreError> commit(Batch&& batch);

  // --- any thread
  Sequence durable_up_to() const { return durable_.load(std::memory_order_acquire); }
  // Blocks until `sequence` is durable (true), or the store failed or the
  // timeout passed (false). For shutdown and tests; the broker polls instead.
  bool wait_durable(Sequence sequence, std::chrono::milliseconds timeout);
  // Writes a snapshot now and returns when it is durable.
  Status<StoreError> checkpoint();
  // An error once a write, sync or snapshot failed: from then on nothing
  // becomes durable and commit() fails. The cause is logged.
  Status<StoreError> health() const;
  StoreStats stats() const;

 private:
  Store(Env& env, Options options, Sequence sequence, State state, SegmentLog log);

  // store thread
  void run();
  struct Work {
    std::vector<std::string> batches;
    bool stop = false;
    uint64_t checkpoint_ticket = 0;
  };
  Work wait_for_work();
  std::optional<std::chrono::steady_clock::time_point> next_deadline() const;
  void write(std::vector<std::string>& batches);
  void apply_to_state(std::string_view frames);
  void publish_durable(Sequence sequence);
  void sync_if_due(bool force);
  bool snapshot_due() const;
  // False when the snapshot could not be written (the log goes on; retried later).
  bool take_snapshot();
  void fail_with(const IoError& error);
  bool failed() const;

  Env& env_;
  Options options_;
  MessageRegistry registry_;  // broker thread only

  mutable std::mutex mutex_;
  std::condition_variable work_ready_;
  std::condition_variable progress_;    // durable_ grew, a checkpoint ended or the store failed
  std::vector<std::string> pending_;    // guarded by mutex_
  Sequence committed_ = 0;              // guarded by mutex_
  bool stopping_ = false;               // guarded by mutex_
  uint64_t checkpoints_requested_ = 0;  // guarded by mutex_
  uint64_t checkpoints_done_ = 0;       // guarded by mutex_
  bool last_checkpoint_ok_ = true;      // guarded by mutex_
  std::optional<StoreError> failure_;   // guarded by mutex_
  std::atomic<Sequence> durable_{0};

  // store thread only
  State state_;
  SegmentLog log_;
  Sequence written_ = 0;
  Sequence snapshot_sequence_ = 0;
  std::string write_buffer_;
  std::chrono::steady_clock::time_point last_sync_;
  std::chrono::steady_clock::time_point last_snapshot_;
  std::chrono::steady_clock::time_point snapshot_retry_at_;

  std::atomic<uint64_t> stat_writes_{0}, stat_records_{0}, stat_syncs_{0}, stat_snapshots_{0}, stat_bytes_{0};
  std::thread thread_;
};

struct Store::Opened {
  std::unique_ptr<Store> store;
  RecoveredState state;
  RecoveryReport report;
};

}  // namespace stellwerk::store

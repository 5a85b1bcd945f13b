// The Store: opening (recovery and the first snapshot), the commit path on
// the broker's thread and the store thread's loop.
#include "store/store.h"

#include <algorithm>
#include <iterator>

#include "base/log.h"
#include "base/thread_name.h"
#include "store/background.h"
#include "store/frame.h"
#include "store/snapshot.h"
#include "store/snapshot_source.h"

namespace stellwerk::store {
namespace {

using SteadyTime = std::chrono::steady_clock::time_point;
constexpr std::chrono::seconds kSnapshotRetryDelay{10};
// How long, and how many bytes, written groups may wait for the snapshot thread.
constexpr std::chrono::milliseconds kMirrorDelay{20};
constexpr size_t kMirrorBytes = 256 << 10;

SteadyTime steady_now() { return std::chrono::steady_clock::now(); }

void log_recovery(const std::string& dir, const Recovery& recovery, size_t sessions, size_t retained) {
  const RecoveryReport& report = recovery.report;
  log::info(
      "store: recovered {} up to sequence {}: {} sessions, {} retained, {} snapshot records, {} log "
      "records from {} segments",
      dir, recovery.sequence, sessions, retained, report.snapshot_records, report.log_records,
      report.segments_read);
}

// The largest segment file kept for reuse. A segment that grew far past the
// size that starts a snapshot (snapshots failing for a while) is removed
// rather than left taking that much disk space.
uint64_t spare_limit(const Options& options) {
  constexpr uint64_t kAtLeast = 256u << 20;
  return std::max(2 * options.max_log_bytes, kAtLeast);
}

}  // namespace

Result<Store::Opened, StoreError> Store::open(Env& env, Options options) {
  if (auto status = env.create_dir(options.dir); !status) {
    log::error("store: {}", status.error().message);
    return fail(StoreError::io);
  }
  auto recovered = recover(env, options.dir, TimeBase::now().wall);
  if (!recovered) {
    log::error("store: {}", recovered.error().message);
    return fail(StoreError::io);
  }
  Recovery& recovery = *recovered;
  const bool renumbered = recovery.state.highest_message_id() > MessageIds::kRenumberAbove;
  if (renumbered) {
    log::notice("store: message ids passed {}; renumbering the {} bodies", MessageIds::kRenumberAbove,
                recovery.state.message_count());
    recovery.state.renumber_messages();
  }
  // Renumbered bodies need the snapshot at once: the log holds the old ids.
  const InitialSnapshot initial = renumbered ? InitialSnapshot::now : initial_snapshot(recovery);
  if (initial == InitialSnapshot::now) {
    // Damaged or torn files must never be needed again: the recovered state
    // becomes the new snapshot before anything is appended.
    if (auto status = write_snapshot(env, options.dir, recovery.state, recovery.sequence); !status) {
      log::error("store: cannot write the snapshot: {}", status.error().message);
      return fail(StoreError::io);
    }
  }
  SegmentLog log(env, options.dir, spare_limit(options));
  log.adopt_old(std::move(recovery.old_segments));
  if (auto status = log.start_segment(recovery.sequence + 1); !status) {
    log::error("store: cannot start a log segment: {}", status.error().message);
    return fail(StoreError::io);
  }
  // In the background case the replayed segments go once that snapshot is durable.
  if (initial != InitialSnapshot::background) {
    if (auto status = log.remove_old_segments(); !status) {
      log::warning("store: cannot remove an old segment: {}", status.error().message);
    }
  }

  RecoveredState state = recovery.state.to_recovered(TimeBase::now());
  state.sequence = recovery.sequence;
  recovery.state.keep_topic_order(false);
  log_recovery(options.dir, recovery, state.sessions.size(), state.retained.size());
  const MessageId highest = recovery.state.highest_message_id();
  std::unique_ptr<Store> store(new Store(env, std::move(options), recovery.sequence, std::move(recovery.state),
                                         std::move(log), initial));
  store->ids_.start_after(highest);
  return Opened{std::move(store), std::move(state), std::move(recovery.report)};
}

// A snapshot at open keeps the directory small and damage out of the next
// recovery. Damage or no snapshot at all: write it before anything else
// (with no snapshot the state is small or the directory new). A clean
// snapshot plus replayed log: the snapshot thread writes it while the broker
// already runs, since a large state takes seconds and recovery needs nothing
// from it. A clean snapshot and no log after it: that snapshot is the state.
Store::InitialSnapshot Store::initial_snapshot(const Recovery& recovery) {
  const RecoveryReport& report = recovery.report;
  if (!report.snapshot_found || report.snapshot_damaged || !report.set_aside.empty()) return InitialSnapshot::now;
  return report.log_records > 0 ? InitialSnapshot::background : InitialSnapshot::none;
}

Store::Store(Env& env, Options options, Sequence sequence, State state, SegmentLog log, InitialSnapshot initial)
    : env_(env),
      options_(std::move(options)),
      committed_(sequence),
      durable_(sequence),
      log_(std::move(log)),
      written_(sequence),
      snapshot_sequence_(sequence),
      snapshot_running_(initial == InitialSnapshot::background),
      last_sync_(steady_now()),
      last_snapshot_(steady_now()),
      snapshotter_(std::make_unique<Snapshotter>(env, options_.dir, std::move(state),
                                                 [this](SnapshotDone done) {
                                                   {
                                                     std::lock_guard lock(mutex_);
                                                     finished_.push_back(std::move(done));
                                                   }
                                                   work_ready_.notify_one();
                                                 })),
      stat_snapshots_(initial == InitialSnapshot::now ? 1 : 0),
      thread_([this] { run(); }) {
  // The state recovery found, first in the snapshot thread's queue: before
  // any attach_source(), so it comes from that state and not from a broker
  // still restoring. Commits may already be writing after it.
  if (snapshot_running_) snapshotter_->snapshot(snapshot_sequence_, 0);
}

Store::~Store() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  work_ready_.notify_one();
  thread_.join();
}

Batch Store::batch(const TimeBase& time) { return Batch(ids_, time, &mirror_wants_bodies_); }

std::optional<Result<Sequence, StoreError>> Store::refuse_locked(Batch& batch) {
  if (!failure_ && !stopping_ && !batch.empty()) return std::nullopt;
  BatchData dropped;
  batch.finish_into(dropped);
  if (failure_) return fail(*failure_);
  if (stopping_) return fail(StoreError::stopped);
  return committed_;
}

Result<Sequence, StoreError> Store::commit(Batch& batch) {
  if (options_.policy != SyncPolicy::always) return write_at_commit(batch);
  const size_t records = batch.records();
  Sequence sequence;
  bool wake;
  {
    std::lock_guard lock(mutex_);
    if (auto refused = refuse_locked(batch)) return *refused;
    // With batches already waiting, the store thread has been woken for them.
    wake = pending_.frames.empty();
    batch.finish_into(pending_);
    committed_ += records;
    sequence = committed_;
  }
  if (wake) work_ready_.notify_one();
  return sequence;
}

// Under interval and never an acknowledgement waits for write() alone: the
// committing thread makes that call itself, so that no hand-off to the store
// thread and back sits between a PUBLISH and its PUBACK (measured: the
// worker sat idle a third of the time waiting for the store thread).
Result<Sequence, StoreError> Store::write_at_commit(Batch& batch) {
  std::lock_guard log_lock(log_mutex_);
  {
    std::lock_guard lock(mutex_);
    if (auto refused = refuse_locked(batch)) return *refused;
    committed_ += batch.records();
  }
  commit_buffer_.frames.clear();
  commit_buffer_.bodies.clear();
  batch.finish_into(commit_buffer_);
  const bool wake = write_locked(commit_buffer_, false);
  if (auto status = health(); !status) return fail(status.error());
  if (wake) {
    std::lock_guard lock(mutex_);
    log_news_ = true;
    work_ready_.notify_one();
  }
  return written_;
}

Sequence Store::committed() const {
  std::lock_guard lock(mutex_);
  return committed_;
}

void Store::attach_source(SnapshotSource& source) {
  std::lock_guard log_lock(log_mutex_);
  // Under the log mutex, so that a snapshot job the store thread gives
  // after this is taken from the source, and one given before it from a
  // mirror that got every frame up to its sequence.
  source_attached_ = true;
  mirror_wants_bodies_.store(false, std::memory_order_relaxed);
  mirror_pending_ = BatchData();
  snapshotter_->use_source(source);
}

bool Store::source_attached() {
  std::lock_guard log_lock(log_mutex_);
  return source_attached_;
}

Sequence Store::sequence_after(const Batch& batch) const {
  std::lock_guard lock(mutex_);
  return committed_ + batch.records();
}

bool Store::wait_durable(Sequence sequence, std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  progress_.wait_for(lock, timeout, [&] { return durable_up_to() >= sequence || failure_.has_value(); });
  return durable_up_to() >= sequence;
}

Status<StoreError> Store::checkpoint() {
  std::unique_lock lock(mutex_);
  if (failure_) return fail(*failure_);
  const uint64_t ticket = ++checkpoints_requested_;
  work_ready_.notify_one();
  progress_.wait(lock, [&] { return checkpoints_done_ >= ticket || failure_.has_value(); });
  if (failure_) return fail(*failure_);
  if (!last_checkpoint_ok_) return fail(StoreError::io);
  return {};
}

void Store::backup(std::string directory, BackupDone done) {
  {
    std::lock_guard lock(mutex_);
    if (!stopping_) {
      pending_backups_.push_back(BackupRequest{std::move(directory), std::move(done)});
      work_ready_.notify_one();
      return;
    }
  }
  done(fail(std::string("the store is stopping")));
}

Status<StoreError> Store::health() const {
  std::lock_guard lock(mutex_);
  if (failure_) return fail(*failure_);
  return {};
}

StoreStats Store::stats() const {
  return StoreStats{stat_writes_.load(), stat_records_.load(), stat_syncs_.load(), stat_snapshots_.load(),
                    stat_bytes_.load()};
}

bool Store::failed() const {
  std::lock_guard lock(mutex_);
  return failure_.has_value();
}

void Store::fail_with(const IoError& error) {
  log::error("store: {}; nothing more will become durable", error.message);
  std::lock_guard lock(mutex_);
  failure_ = StoreError::failed;
  progress_.notify_all();
}

// ---------------------------------------------------------------- store thread

void Store::run() {
  name_this_thread("sw-store");
  // Not under always: there every acknowledgement waits for this thread (background.h).
  if (options_.policy != SyncPolicy::always) run_in_batches();
  for (;;) {
    Work work = wait_for_work();
    if (!work.batches.frames.empty()) write(work.batches);
    hand_to_mirror(work.stop || !work.backups.empty() || work.checkpoint_ticket != 0);
    sync_if_due(work.stop);
    for (SnapshotDone& done : work.finished) handle_finished(done);
    if (work.checkpoint_ticket) checkpoint_wanted_ = work.checkpoint_ticket;
    for (BackupRequest& request : work.backups) start_backup(request);
    const bool wanted = checkpoint_wanted_ || !backups_waiting_.empty();
    if (!snapshot_running_ && !work.stop && (wanted || snapshot_due())) start_snapshot();
    if (work.stop) return stop_snapshotter();
  }
}

Store::Work Store::wait_for_work() {
  // Taken before the wait: a commit that changes it meanwhile sets log_news_.
  const std::optional<SteadyTime> deadline = next_deadline();
  std::unique_lock lock(mutex_);
  auto ready = [&] {
    return !pending_.frames.empty() || !pending_backups_.empty() || !finished_.empty() || stopping_ ||
           checkpoints_requested_ > checkpoints_taken_ || log_news_;
  };
  if (deadline) {
    work_ready_.wait_until(lock, *deadline, ready);
  } else {
    work_ready_.wait(lock, ready);
  }
  log_news_ = false;
  Work work;
  // The buffers swap back and forth between the two threads, keeping their capacity.
  work.batches = std::move(written_batches_);
  work.batches.frames.clear();
  work.batches.bodies.clear();
  std::swap(work.batches, pending_);
  work.backups.swap(pending_backups_);
  work.finished.swap(finished_);
  work.stop = stopping_;
  if (checkpoints_requested_ > checkpoints_taken_) work.checkpoint_ticket = checkpoints_taken_ = checkpoints_requested_;
  return work;
}

std::optional<SteadyTime> Store::next_deadline() {
  std::optional<SteadyTime> deadline;
  std::lock_guard log_lock(log_mutex_);
  if (failed()) return deadline;
  if (options_.policy == SyncPolicy::interval && log_.unsynced())
    deadline = last_sync_ + options_.sync_interval;
  if (!mirror_pending_.frames.empty()) {
    const SteadyTime mirror = mirror_since_ + kMirrorDelay;
    deadline = deadline ? std::min(*deadline, mirror) : mirror;
  }
  // A running snapshot ends with a wake-up of its own (finished_).
  if (options_.autosave_interval.count() > 0 && written_ > snapshot_sequence_ && !snapshot_running_) {
    const SteadyTime autosave = std::max(last_snapshot_ + options_.autosave_interval, snapshot_retry_at_);
    deadline = deadline ? std::min(*deadline, autosave) : autosave;
  }
  return deadline;
}

void Store::write(BatchData& batches) {
  {
    std::lock_guard log_lock(log_mutex_);
    write_locked(batches, true);
  }
  written_batches_ = std::move(batches);
}

bool Store::write_locked(BatchData& batches, bool report_durable) {
  // Batches committed before a failure can never become durable.
  if (failed()) return false;
  const bool was_unsynced = log_.unsynced();
  const bool mirror_was_empty = mirror_pending_.frames.empty();
  const bool mirror_was_full = mirror_pending_.frames.size() >= kMirrorBytes;
  const size_t records = frame::seal(batches.frames, written_ + 1, log_.crc_seed());
  if (auto status = log_.append(batches.frames); !status) {
    fail_with(status.error());
    return false;
  }
  ++stat_writes_;
  stat_records_ += records;
  stat_bytes_ += batches.frames.size();
  written_ += records;
  if (options_.policy == SyncPolicy::always) {
    if (auto status = log_.sync(); !status) {
      fail_with(status.error());
      return false;
    }
    ++stat_syncs_;
    last_sync_ = steady_now();
  }
  publish_durable(written_, report_durable);
  if (source_attached_) return !was_unsynced;
  if (mirror_was_empty) mirror_since_ = steady_now();
  mirror_pending_.frames += batches.frames;
  std::move(batches.bodies.begin(), batches.bodies.end(), std::back_inserter(mirror_pending_.bodies));
  // What changes the store thread's next deadline, or wants the mirror fed now.
  return !was_unsynced || mirror_was_empty || (!mirror_was_full && mirror_pending_.frames.size() >= kMirrorBytes);
}

void Store::hand_to_mirror(bool now) {
  std::lock_guard log_lock(log_mutex_);
  hand_to_mirror_locked(now);
}

void Store::hand_to_mirror_locked(bool now) {
  if (mirror_pending_.frames.empty()) return;
  const bool due = mirror_pending_.frames.size() >= kMirrorBytes || steady_now() >= mirror_since_ + kMirrorDelay;
  if (!now && !due) return;
  snapshotter_->apply(std::move(mirror_pending_.frames), std::move(mirror_pending_.bodies));
  mirror_pending_ = BatchData();
  // One allocation for the next round instead of one per doubling.
  mirror_pending_.frames.reserve(kMirrorBytes + kMirrorBytes / 4);
}

void Store::publish_durable(Sequence sequence, bool report) {
  durable_.store(sequence, std::memory_order_release);
  {
    // Taken so that a waiter between its check and its sleep cannot miss the wake-up.
    std::lock_guard lock(mutex_);
  }
  progress_.notify_all();
  if (report && options_.on_durable) options_.on_durable(sequence);
}

void Store::sync_if_due(bool force) {
  WritableFile* file = nullptr;
  {
    std::lock_guard log_lock(log_mutex_);
    // Nothing unsynced (SyncPolicy::always syncs as it writes), or nothing can help any more.
    if (!log_.unsynced() || failed()) return;
    const bool due =
        options_.policy == SyncPolicy::interval && steady_now() - last_sync_ >= options_.sync_interval;
    if (!force && !due) return;
    file = &log_.sync_later();
  }
  // Outside the lock: commits go on writing while the disk catches up.
  if (auto status = file->sync(); !status) return fail_with(status.error());
  ++stat_syncs_;
  last_sync_ = steady_now();
}

bool Store::snapshot_due() {
  std::lock_guard log_lock(log_mutex_);
  if (written_ == snapshot_sequence_ || steady_now() < snapshot_retry_at_) return false;
  const bool log_full = options_.max_log_bytes > 0 && log_.current_bytes() > options_.max_log_bytes;
  const bool autosave =
      options_.autosave_interval.count() > 0 && steady_now() - last_snapshot_ >= options_.autosave_interval;
  return log_full || autosave;
}

std::optional<Sequence> Store::settle_log(bool new_segment) {
  // The bulk first, while commits go on writing.
  sync_if_due(true);
  // Under the lock only what must be exact: the sequence the log is settled
  // at and the switch to the next segment. The syncs that make it durable
  // come after, outside the lock: a commit that waited for them stalled the
  // broker 20 to 50 ms per snapshot (measured with `perf sched`).
  std::optional<SegmentLog::Rolled> rolled;
  WritableFile* tail = nullptr;
  Sequence settled_at = 0;
  {
    std::lock_guard log_lock(log_mutex_);
    if (failed()) return std::nullopt;
    if (new_segment) {
      IoResult<SegmentLog::Rolled> roll = log_.roll(written_ + 1);
      if (!roll) return settle_failed(roll.error());
      rolled.emplace(std::move(*roll));
    } else if (log_.unsynced()) {
      tail = &log_.sync_later();
    }
    settled_at = written_;
    hand_to_mirror_locked(true);
  }
  const IoStatus status = rolled ? rolled->settle() : tail ? tail->sync() : IoStatus{};
  if (!status) return settle_failed(status.error());
  if (rolled || tail) ++stat_syncs_;
  return settled_at;
}

std::optional<Sequence> Store::settle_failed(const IoError& error) {
  fail_with(error);
  return std::nullopt;
}

void Store::start_snapshot() {
  const uint64_t ticket = std::exchange(checkpoint_wanted_, 0);
  if (failed()) return end_checkpoint(ticket, false);
  // The segment that ends at the snapshot must be complete on disk before a
  // newer one holds synced records, or a power loss would leave a gap that
  // recovery cannot cross.
  const std::optional<Sequence> at = settle_log(true);
  if (!at) return end_checkpoint(ticket, false);
  snapshot_running_ = true;
  snapshotter_->snapshot(*at, ticket);
}

void Store::start_backup(BackupRequest& request) {
  if (failed()) return request.done(fail(std::string("the store has failed; see the log")));
  if (source_attached()) {
    // The next snapshot, copied with the log after it (store/backup.h).
    log::info("store: a backup to {} waits for the next snapshot", request.directory);
    backups_waiting_.push_back(std::move(request));
    return;
  }
  // The backup must not hold records the live store could still lose.
  const std::optional<Sequence> at = settle_log(false);
  if (!at) return request.done(fail(std::string("cannot sync the log; see the log")));
  const uint64_t ticket = ++backup_tickets_;
  backups_running_.emplace(ticket, std::move(request.done));
  log::info("store: writing a backup of sequence {} to {}", *at, request.directory);
  snapshotter_->backup(std::move(request.directory), *at, ticket);
}

void Store::handle_finished(SnapshotDone& done) {
  if (done.kind == SnapshotDone::Kind::backup) {
    auto node = backups_running_.extract(done.ticket);
    if (done.status) {
      log::info("store: backup of sequence {} written", done.sequence);
      return node.mapped()({});
    }
    log::error("store: backup failed: {}", done.status.error().message);
    return node.mapped()(fail(done.status.error().message));
  }
  handle_finished_snapshot(done);
}

void Store::handle_finished_snapshot(SnapshotDone& done) {
  snapshot_running_ = false;
  if (done.status && !done.published) done.status = publish_slices(done.captured_through);
  if (!done.status) {
    // The log still holds everything; try again later rather than at every write.
    log::error("store: snapshot failed, the log keeps growing: {}", done.status.error().message);
    snapshot_retry_at_ = steady_now() + kSnapshotRetryDelay;
    fail_waiting_backups("the snapshot it needs failed; see the log");
    return end_checkpoint(done.ticket, false);
  }
  ++stat_snapshots_;
  snapshot_sequence_ = done.sequence;
  last_snapshot_ = steady_now();
  std::vector<std::string> obsolete;
  {
    std::lock_guard log_lock(log_mutex_);
    obsolete = log_.take_old_segments();
  }
  // Outside the lock: freeing a large file waits for the file system's journal.
  if (auto status = log_.remove_segments(obsolete); !status) {
    log::warning("store: cannot remove an old segment: {}", status.error().message);
  }
  serve_waiting_backups(done.sequence);
  end_checkpoint(done.ticket, true);
}

IoStatus Store::publish_slices(Sequence captured_through) {
  // Every record a slice may hold was committed before the snapshot thread
  // reported, so this thread has written it by now (under always in this
  // same turn, before handling the report); syncing makes it durable.
  const std::optional<Sequence> synced = settle_log(false);
  if (!synced) return fail(IoError{"cannot sync the log"});
  if (*synced < captured_through) return fail(IoError{"the log does not reach the snapshot's last slice yet"});
  return SnapshotWriter::publish(env_, options_.dir);
}

void Store::serve_waiting_backups(Sequence sequence) {
  if (!snapshotter_) return fail_waiting_backups("the store is stopping");
  for (BackupRequest& request : backups_waiting_) {
    // The current segment starts right after the snapshot; what it holds
    // now is whole batches, synced by settle_log() or by the next sync.
    std::string segment;
    uint64_t bytes = 0;
    {
      std::lock_guard log_lock(log_mutex_);
      segment = log_.current_name();
      bytes = log_.current_bytes();
    }
    const uint64_t ticket = ++backup_tickets_;
    backups_running_.emplace(ticket, std::move(request.done));
    log::info("store: writing a backup of sequence {} and the log after it to {}", sequence, request.directory);
    snapshotter_->copy_backup(std::move(request.directory), std::move(segment), bytes, sequence, ticket);
  }
  backups_waiting_.clear();
}

void Store::fail_waiting_backups(const std::string& why) {
  for (BackupRequest& request : backups_waiting_) request.done(fail(why));
  backups_waiting_.clear();
}

void Store::end_checkpoint(uint64_t ticket, bool ok) {
  // Snapshots started by the timer or the log's size answer no checkpoint().
  if (ticket == 0) return;
  std::lock_guard lock(mutex_);
  checkpoints_done_ = ticket;
  last_checkpoint_ok_ = ok;
  progress_.notify_all();
}

void Store::stop_snapshotter() {
  hand_to_mirror(true);
  snapshotter_.reset();
  std::vector<SnapshotDone> finished;
  {
    std::lock_guard lock(mutex_);
    finished.swap(finished_);
  }
  for (SnapshotDone& done : finished) handle_finished(done);
  // A checkpoint or backup asked for while the last snapshot ran gets none.
  if (checkpoint_wanted_) end_checkpoint(std::exchange(checkpoint_wanted_, 0), false);
  fail_waiting_backups("the store is stopping");
}

}  // namespace stellwerk::store

// The snapshot thread's loop: frames are applied to the mirror as they come
// (until the broker's walk replaces it), snapshot and backup jobs run in between.
#include "store/snapshotter.h"

#include <algorithm>

#include "base/thread_name.h"
#include "store/background.h"
#include "store/backup.h"
#include "store/frame.h"
#include "store/snapshot.h"

namespace stellwerk::store {

Snapshotter::Snapshotter(Env& env, std::string dir, State state, std::function<void(SnapshotDone)> finished)
    : env_(env),
      dir_(std::move(dir)),
      finished_(std::move(finished)),
      state_(std::move(state)),
      thread_([this] { run(); }) {}

Snapshotter::~Snapshotter() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  ready_.notify_one();
  thread_.join();
}

void Snapshotter::apply(std::string frames, std::vector<record::MessagePut> bodies) {
  push(Job{Job::Kind::frames, std::move(frames), std::move(bodies), 0, 0});
}

void Snapshotter::snapshot(Sequence sequence, uint64_t ticket) {
  push(Job{Job::Kind::snapshot, {}, {}, sequence, ticket});
}

void Snapshotter::backup(std::string directory, Sequence sequence, uint64_t ticket) {
  push(Job{Job::Kind::backup, std::move(directory), {}, sequence, ticket});
}

void Snapshotter::use_source(SnapshotSource& source) {
  Job job;
  job.kind = Job::Kind::use_source;
  job.source = &source;
  push(std::move(job));
}

void Snapshotter::copy_backup(std::string directory, std::string segment, uint64_t log_bytes, Sequence sequence,
                              uint64_t ticket) {
  Job job{Job::Kind::copy_backup, std::move(directory), {}, sequence, ticket};
  job.segment = std::move(segment);
  job.log_bytes = log_bytes;
  push(std::move(job));
}

void Snapshotter::push(Job job) {
  {
    std::lock_guard lock(mutex_);
    jobs_.push_back(std::move(job));
  }
  ready_.notify_one();
}

void Snapshotter::run() {
  name_this_thread("sw-snapshot");
  run_in_batches();
  std::deque<Job> jobs;
  for (;;) {
    bool stop;
    {
      std::unique_lock lock(mutex_);
      ready_.wait(lock, [&] { return !jobs_.empty() || stopping_; });
      jobs.swap(jobs_);
      stop = stopping_;
    }
    for (Job& job : jobs) {
      if (job.kind == Job::Kind::frames) {
        apply_frames(job.data, job.bodies);
      } else if (job.kind == Job::Kind::use_source) {
        source_ = job.source;
        state_ = State();
      } else {
        write(job);
      }
    }
    jobs.clear();
    // Nobody gives jobs once the stop was asked for, and those given before are done.
    if (stop) return;
  }
}

void Snapshotter::apply_frames(std::string_view frames, std::vector<record::MessagePut>& bodies) {
  frame::Reader reader(frames, frame::Reader::Check::trusted);
  frame::Frame frame;
  size_t next_body = 0;
  while (reader.next(frame) == frame::ReadStatus::ok) {
    const bool body_taken =
        frame.type == RecordType::message_put && take_body(frame.payload, bodies, next_body);
    if (frame.type == RecordType::message_put_inflight) {
      apply_message_put_inflight(frame.payload, bodies, next_body);
    } else if (!body_taken && !apply_from_view(frame.type, frame.payload)) {
      // The broker thread encoded these frames; they always decode. A body
      // missing from `bodies` would be a bug in Batch, and still decodes.
      if (auto record = decode_payload(frame.type, frame.payload)) state_.apply(*record);
    }
    if (frame.batch_end) state_.end_batch();
  }
}

bool Snapshotter::take_body(std::string_view put_payload, std::vector<record::MessagePut>& bodies,
                            size_t& next_body) {
  if (next_body >= bodies.size() || message_put_id(put_payload) != bodies[next_body].id) return false;
  state_.apply(std::move(bodies[next_body++]));
  return true;
}

void Snapshotter::apply_message_put_inflight(std::string_view payload,
                                             std::vector<record::MessagePut>& bodies, size_t& next_body) {
  const size_t body_at = read_message_put_inflight_push(payload, inflight_entry_);
  if (body_at == 0 || !take_body(payload.substr(body_at), bodies, next_body)) {
    if (auto record = decode_payload(RecordType::message_put_inflight, payload)) state_.apply(*record);
    return;
  }
  state_.apply_queue_push_inflight(inflight_entry_);
}

bool Snapshotter::apply_from_view(RecordType type, std::string_view payload) {
  switch (type) {
    case RecordType::queue_push_inflight:
      if (decode_inflight_entry(payload, inflight_entry_)) state_.apply_queue_push_inflight(inflight_entry_);
      return true;
    case RecordType::inflight_delete: {
      ClientPacketView packet;
      if (decode_client_packet(payload, packet)) state_.apply_inflight_delete(packet);
      return true;
    }
    case RecordType::inflight_delete_many: {
      InflightDeleteManyView deleted;
      if (decode_inflight_delete_many(payload, deleted)) state_.apply_inflight_delete_many(deleted);
      return true;
    }
    default:
      return false;
  }
}

void Snapshotter::write(const Job& job) {
  SnapshotDone done;
  if (job.kind == Job::Kind::snapshot && source_) {
    done = write_from_source(job.sequence);
  } else if (job.kind == Job::Kind::snapshot) {
    done.status = write_snapshot(env_, dir_, state_, job.sequence);
  } else if (job.kind == Job::Kind::copy_backup) {
    done.kind = SnapshotDone::Kind::backup;
    done.status = store::copy_backup(env_, dir_, job.data, job.segment, job.log_bytes);
  } else {
    done.kind = SnapshotDone::Kind::backup;
    done.status = write_backup(env_, job.data, state_, job.sequence);
  }
  done.sequence = job.sequence;
  done.ticket = job.ticket;
  finished_(std::move(done));
}

SnapshotDone Snapshotter::write_from_source(Sequence sequence) {
  SnapshotDone done;
  done.published = false;
  done.captured_through = sequence;
  auto writer = SnapshotWriter::start(env_, dir_, sequence);
  if (!writer) {
    done.status = fail(writer.error());
    return done;
  }
  auto walk = source_->walk();
  while (auto slice = walk->next()) {
    writer->begin_slice(slice->captured_at);
    writer->add_batch(slice->records);
    done.captured_through = std::max(done.captured_through, slice->captured_at);
  }
  done.status = walk->aborted() ? fail(IoError{"the broker stopped before the snapshot was complete"})
                                : writer->finish();
  return done;
}

}  // namespace stellwerk::store

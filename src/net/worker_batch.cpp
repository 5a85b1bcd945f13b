// Worker: several sockets' reads, or writes, in one io_uring call.
//
// A turn that has two or more readable sockets asks the kernel for all of
// their first reads at once, each into its own slice of batch_buffer_, and
// then hands the results over in event order exactly as read_on() would,
// going on with plain reads where a slice came back full. Writes go the same
// way at the end of the turn: one sendmsg per dirty connection, all in one
// call, and a connection whose output needed more iovecs than a batched
// write carries writes the rest itself. Everything a result means is decided
// by the same take_read_result / take_write_result as the plain path, so
// the two cannot drift apart.
#include <algorithm>

#include "net/connection.h"
#include "net/worker.h"

namespace stellwerk::net {
namespace {

constexpr unsigned kRingCapacity = 128;
constexpr size_t kBatchBufferBytes = 256 * 1024;
// A slow client's next message is about as long as its last; a busy one's
// slice doubles with each full read, up to the worker's read buffer.
constexpr size_t kSmallestSlice = 2 * 1024;

}  // namespace

void Worker::start_batching() {
  ring_ = IoRing::create(kRingCapacity);
  if (!ring_) return;
  batch_buffer_.resize(kBatchBufferBytes);
  batched_reads_.reserve(kRingCapacity);
  batched_writes_.reserve(kRingCapacity);
}

void Worker::read_ready_sockets() {
  if (batching(ready_to_read_.size())) {
    read_in_batches(ready_to_read_);
  } else {
    for (ConnectionId id : ready_to_read_) {
      if (Connection* c = find(id)) read_from(*c);
    }
  }
  ready_to_read_.clear();
}

void Worker::read_in_batches(const std::vector<ConnectionId>& ids) {
  size_t used = 0;
  for (ConnectionId id : ids) {
    Connection* c = find(id);  // an earlier batch's input may have closed it
    if (c == nullptr) continue;
    if (c->last_read_turn == turn_) {
      queue_read_backlog(*c);  // had its share this turn
      continue;
    }
    c->last_read_turn = turn_;
    if (!can_read(*c)) continue;
    size_t length = batched_read_length(*c);
    if (ring_->full() || used + length > batch_buffer_.size()) {
      finish_read_batch();  // hands input over, which may close this connection too
      used = 0;
      c = find(id);
      if (c == nullptr || !can_read(*c)) continue;
    }
    ring_->queue_receive(c->fd, batch_buffer_.data() + used, length);
    batched_reads_.push_back(BatchedRead{id, used, length});
    used += length;
  }
  finish_read_batch();
}

size_t Worker::batched_read_length(const Connection& c) const {
  size_t limit = std::min({read_buffer_.size(), options_.read_budget_per_turn, batch_buffer_.size()});
  return std::min(limit, std::max(kSmallestSlice, 2 * size_t{c.last_read_length}));
}

void Worker::finish_read_batch() {
  if (batched_reads_.empty()) return;
  std::span<const int> results = ring_->submit_and_wait();
  bump(counters_.batches);
  for (size_t i = 0; i < batched_reads_.size(); ++i) {
    const BatchedRead& read = batched_reads_[i];
    Connection* c = find(read.id);  // input handed over before this one may have closed it
    if (c == nullptr) continue;
    std::span<const uint8_t> bytes(batch_buffer_.data() + read.offset, static_cast<size_t>(std::max(results[i], 0)));
    if (take_read_result(*c, results[i], read.length, bytes)) {
      read_on(*c, options_.read_budget_per_turn - bytes.size());
    }
  }
  batched_reads_.clear();
}

void Worker::write_in_batches(const std::vector<Connection*>& connections) {
  for (Connection* c : connections) {
    c->in_dirty_list = false;
    if (c->state == ConnectionState::dead) continue;
    if (c->transport) seal_transport_output(*c);
    if (c->output.empty()) {
      write_queued(*c);  // nothing to send: only finishes a close
      continue;
    }
    if (ring_->full()) finish_write_batch();
    BatchedWrite& write = batched_writes_.emplace_back();  // capacity reserved: never moves
    write.id = c->id;
    int count = c->output.gather(write.iov, BatchedWrite::kMaxIovecs);
    write.length = total_length(write.iov, count);
    write.message = msghdr{};
    write.message.msg_iov = write.iov;
    write.message.msg_iovlen = static_cast<size_t>(count);
    ring_->queue_send(c->fd, &write.message);
  }
  finish_write_batch();
}

void Worker::finish_write_batch() {
  if (batched_writes_.empty()) return;
  std::span<const int> results = ring_->submit_and_wait();
  bump(counters_.batches);
  for (size_t i = 0; i < batched_writes_.size(); ++i) {
    Connection* c = find(batched_writes_[i].id);  // a failed write's on_close may have ended others
    if (c == nullptr) continue;
    if (take_write_result(*c, results[i], batched_writes_[i].length)) write_queued(*c);
  }
  batched_writes_.clear();
}

}  // namespace stellwerk::net

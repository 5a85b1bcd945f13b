// Output that waits for the store: what the broker sent for records that are
// not durable yet, and whatever was sent after it (order per connection).
// Kept in send order as chunks, each one OutputBatch released whole once the
// store's durable sequence reaches the chunk's: a held delivery costs a copy
// into the chunk's shared buffer, not an allocation of its own.
//
// The output of one loop turn joins one chunk while its records are not
// committed (the chunk is open), taking the highest sequence any of it needs:
// those records are committed together, so they become durable together. A
// commit closes the chunk, so later output never delays output already
// committed. Guarded by the server's broker lock.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <vector>

#include "server/output_batch.h"

namespace stellwerk::server {

class HeldOutput {
 public:
  bool empty() const { return chunks_.empty(); }

  // Takes every item of `output` (which it leaves for the caller to clear):
  // none may leave before `sequence` is durable, nor before what is held
  // already.
  void hold(OutputBatch& output, uint64_t sequence) {
    if (output.empty()) return;
    if (chunks_.empty() || !chunks_.back().open) open_chunk();
    Chunk& chunk = chunks_.back();
    chunk.sequence = std::max(chunk.sequence, sequence);
    for (const OutputBatch::Item& item : output.items()) chunk.output.take(output, item);
  }

  // The records held output waits for were committed: what is sent from now
  // on goes into a new chunk.
  void close() {
    if (!chunks_.empty()) chunks_.back().open = false;
  }

  // Passes each item that may leave now that `durable` is, in order, to
  // `release(batch, item)`.
  template <typename Release>
  void release(uint64_t durable, Release&& release) {
    while (!chunks_.empty() && chunks_.front().sequence <= durable) {
      OutputBatch& output = chunks_.front().output;
      for (const OutputBatch::Item& item : output.items()) release(output, item);
      output.clear();
      if (spare_.size() < kSpareChunks) spare_.push_back(std::move(output));
      chunks_.pop_front();
    }
  }

 private:
  // Emptied batches kept for reuse: a turn usually holds one or two chunks.
  static constexpr size_t kSpareChunks = 8;
  struct Chunk {
    uint64_t sequence = 0;
    bool open = true;
    OutputBatch output;
  };

  void open_chunk() {
    chunks_.emplace_back();
    if (spare_.empty()) return;
    chunks_.back().output = std::move(spare_.back());  // keeps its buffers' capacity
    spare_.pop_back();
  }

  std::deque<Chunk> chunks_;
  std::vector<OutputBatch> spare_;  // emptied chunks' batches
};

}  // namespace stellwerk::server

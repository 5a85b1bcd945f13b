// OutputQueue: see output_queue.h.
#include "net/output_queue.h"

#include <algorithm>
#include <cassert>
#include <vector>

namespace stellwerk::net {

namespace {

// Written-out chunks kept per thread for the next queue that needs one. A
// slow client's queue empties after every message; without these each
// message would allocate a chunk and free it again (docs/performance.md,
// slow pairs). Bounded: at most kSparePool chunks of at most 2 x
// kCoalesceLimit capacity per thread.
constexpr size_t kSparePool = 64;
thread_local std::vector<std::string> spare_chunks;

std::string new_chunk(std::string_view bytes) {
  if (spare_chunks.empty()) return std::string(bytes);
  std::string chunk = std::move(spare_chunks.back());
  spare_chunks.pop_back();
  chunk.assign(bytes);
  return chunk;
}

void keep_chunk(std::string& chunk) {
  if (spare_chunks.size() >= kSparePool || chunk.capacity() > 2 * OutputQueue::kCoalesceLimit) return;
  chunk.clear();
  spare_chunks.push_back(std::move(chunk));
}

}  // namespace

void OutputQueue::append(std::string_view bytes) {
  if (bytes.empty()) return;
  size_ += bytes.size();
  if (!chunks_.empty() && chunks_.back().size() + bytes.size() <= kCoalesceLimit) {
    chunks_.back().append(bytes);
    return;
  }
  chunks_.push_back(new_chunk(bytes));
}

void OutputQueue::append(std::string&& bytes) {
  if (bytes.size() <= kSmallMove) {
    append(std::string_view(bytes));
    return;
  }
  size_ += bytes.size();
  chunks_.push_back(std::move(bytes));
}

int OutputQueue::gather(iovec* iov, int max) const {
  int filled = 0;
  size_t skip = front_offset_;
  for (auto it = chunks_.begin(); it != chunks_.end() && filled < max; ++it) {
    iov[filled].iov_base = const_cast<char*>(it->data() + skip);
    iov[filled].iov_len = it->size() - skip;
    skip = 0;
    ++filled;
  }
  return filled;
}

void OutputQueue::consume(size_t written) {
  assert(written <= size_);
  size_ -= std::min(written, size_);
  while (written > 0 && !chunks_.empty()) {
    size_t left_in_front = chunks_.front().size() - front_offset_;
    if (written < left_in_front) {
      front_offset_ += written;
      return;
    }
    written -= left_in_front;
    keep_chunk(chunks_.front());
    chunks_.pop_front();
    front_offset_ = 0;
  }
  chunks_.release_if_empty();
}

void OutputQueue::clear() {
  chunks_.clear();
  chunks_.release_if_empty();
  front_offset_ = 0;
  size_ = 0;
}

}  // namespace stellwerk::net

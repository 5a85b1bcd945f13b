// OutputQueue: see output_queue.h.
#include "net/output_queue.h"

#include <algorithm>
#include <cassert>

namespace stellwerk::net {

void OutputQueue::append(std::string_view bytes) {
  if (bytes.empty()) return;
  size_ += bytes.size();
  if (!chunks_.empty() && chunks_.back().size() + bytes.size() <= kCoalesceLimit) {
    chunks_.back().append(bytes);
    return;
  }
  chunks_.emplace_back(bytes);
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

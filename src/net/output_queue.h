// Bytes waiting to be written to one socket.
//
// A deque of chunks plus the offset already written from the first chunk, so a
// partial writev never moves bytes around. Small sends are copied into the tail
// chunk (up to kCoalesceLimit) because one iovec per tiny packet would make a
// single writev carry little; large buffers handed over by move are kept as
// their own chunk and never copied.
#pragma once

#include <sys/uio.h>

#include <cstddef>
#include <string>
#include <string_view>

#include "base/lazy_deque.h"

namespace stellwerk::net {

class OutputQueue {
 public:
  // A tail chunk grows by copying only while it stays within this size.
  static constexpr size_t kCoalesceLimit = 16 * 1024;
  // Moved-in strings this short are copied instead: moving them saves nothing
  // (short strings live inline) and each separate chunk costs an iovec.
  static constexpr size_t kSmallMove = 512;

  void append(std::string_view bytes);
  void append(std::string&& bytes);

  // Unwritten bytes.
  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }

  // Points up to `max` iovecs at the unwritten bytes, oldest first; returns
  // how many were filled. The iovecs stay valid until the next append/consume.
  int gather(iovec* iov, int max) const;

  // Forgets the first `written` bytes (at most size()).
  void consume(size_t written);

  void clear();

 private:
  LazyDeque<std::string> chunks_;  // nothing allocated while idle
  size_t front_offset_ = 0;  // bytes of chunks_.front() already written
  size_t size_ = 0;
};

}  // namespace stellwerk::net

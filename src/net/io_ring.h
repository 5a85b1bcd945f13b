// IoRing: the receives, or the sends, of one loop turn in one system call.
//
// DESIGN. The worker stays synchronous. It queues a turn's receives (or its
// sends) here, then submit_and_wait() hands them all to the kernel in one
// io_uring_enter and returns when every one has finished, with results that
// read like those of recv()/sendmsg(). Each operation carries MSG_DONTWAIT, so
// one that cannot finish at once fails with EAGAIN instead of waiting in the
// kernel: a call never blocks, whatever the sockets hold. create() checks that
// promise on a socket pair before anyone relies on it.
//
// Why: on this kind of machine a system call costs about 1 µs, more than a
// small read or write itself; docs/performance.md ("What io_uring would
// save") measures that one call for N sockets pays from N = 2 on.
#pragma once

#include <sys/socket.h>

#include <cstddef>
#include <memory>
#include <span>
#include <vector>

struct io_uring;
struct __kernel_timespec;

namespace stellwerk::net {

class IoRing {
 public:
  // Null when the kernel refuses io_uring (too old, disabled by
  // kernel.io_uring_disabled or a seccomp filter) or does not honour
  // MSG_DONTWAIT in it; the caller then makes one system call per socket.
  // Only the calling thread may use the ring (the kernel holds it to that).
  static std::unique_ptr<IoRing> create(unsigned capacity);
  ~IoRing();
  IoRing(const IoRing&) = delete;
  IoRing& operator=(const IoRing&) = delete;

  unsigned capacity() const { return capacity_; }
  size_t queued() const { return queued_; }
  bool full() const { return queued_ == capacity_; }

  // At most capacity() between two submit_and_wait() calls. The buffer, the
  // message and its iovecs must stay valid until submit_and_wait() returns.
  void queue_receive(int fd, void* buffer, size_t length);
  void queue_send(int fd, const msghdr* message);

  // Submits what is queued and waits for all of it. Result i belongs to the
  // i-th operation queued: bytes transferred, or -errno. Valid until the next
  // call.
  std::span<const int> submit_and_wait();

 private:
  IoRing(std::unique_ptr<io_uring> ring, unsigned capacity);
  bool complete_all(struct __kernel_timespec* timeout);
  bool honours_dont_wait();

  std::unique_ptr<io_uring> ring_;
  unsigned capacity_;
  size_t queued_ = 0;
  std::vector<int> results_;
};

}  // namespace stellwerk::net

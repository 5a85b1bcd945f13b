#include "net/io_ring.h"

#include <liburing.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "base/log.h"

namespace stellwerk::net {
namespace {

// The ring is used only by the thread that made it, and only ever waited on
// for everything it holds, so the kernel may keep its completion work until
// that wait (the cheapest setting), and a failed operation must not stop the
// ones queued after it.
constexpr unsigned kPreferredFlags = IORING_SETUP_SUBMIT_ALL | IORING_SETUP_COOP_TASKRUN |
                                     IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN;

class SocketPair {
 public:
  SocketPair() { ok_ = ::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds_) == 0; }
  ~SocketPair() {
    if (!ok_) return;
    ::close(fds_[0]);
    ::close(fds_[1]);
  }
  bool ok() const { return ok_; }
  int reader() const { return fds_[0]; }
  int writer() const { return fds_[1]; }
  void fill_writer() const {
    char block[4096] = {};
    while (::write(fds_[1], block, sizeof block) > 0) {
    }
  }

 private:
  int fds_[2] = {-1, -1};
  bool ok_ = false;
};

}  // namespace

std::unique_ptr<IoRing> IoRing::create(unsigned capacity) {
  auto ring = std::make_unique<io_uring>();
  int rc = io_uring_queue_init(capacity, ring.get(), kPreferredFlags);
  if (rc == -EINVAL) rc = io_uring_queue_init(capacity, ring.get(), 0);  // kernels before 6.1
  if (rc < 0) {
    log::info("io_uring is not available ({}): one system call per socket", std::strerror(-rc));
    return nullptr;
  }
  std::unique_ptr<IoRing> made(new IoRing(std::move(ring), capacity));
  if (!made->honours_dont_wait()) {
    log::warning("io_uring waits despite MSG_DONTWAIT on this kernel: one system call per socket");
    return nullptr;
  }
  return made;
}

IoRing::IoRing(std::unique_ptr<io_uring> ring, unsigned capacity)
    : ring_(std::move(ring)), capacity_(capacity) {
  results_.reserve(capacity);
}

IoRing::~IoRing() { io_uring_queue_exit(ring_.get()); }

void IoRing::queue_receive(int fd, void* buffer, size_t length) {
  io_uring_sqe* sqe = io_uring_get_sqe(ring_.get());
  if (sqe == nullptr) std::abort();  // more than capacity() queued: a caller's bug
  io_uring_prep_recv(sqe, fd, buffer, length, MSG_DONTWAIT);
  io_uring_sqe_set_data64(sqe, queued_++);
}

void IoRing::queue_send(int fd, const msghdr* message) {
  io_uring_sqe* sqe = io_uring_get_sqe(ring_.get());
  if (sqe == nullptr) std::abort();
  // MSG_NOSIGNAL: a peer that reset must cost an EPIPE, not a SIGPIPE.
  io_uring_prep_sendmsg(sqe, fd, message, MSG_DONTWAIT | MSG_NOSIGNAL);
  io_uring_sqe_set_data64(sqe, queued_++);
}

std::span<const int> IoRing::submit_and_wait() {
  if (!complete_all(nullptr)) std::abort();  // only a timeout ends it early, and there is none
  return results_;
}

// Submits until the queue is empty (a signal or a transient shortage may
// stop a submission part way), then collects every completion.
bool IoRing::complete_all(__kernel_timespec* timeout) {
  const size_t expected = queued_;
  queued_ = 0;
  results_.assign(expected, -ECANCELED);
  while (io_uring_sq_ready(ring_.get()) > 0) {
    int rc = io_uring_submit(ring_.get());
    if (rc < 0 && rc != -EINTR && rc != -EAGAIN && rc != -EBUSY) {
      log::error("io_uring submit failed: {}", std::strerror(-rc));
      std::abort();  // the queued operations point into the caller's buffers: no way to take them back
    }
  }
  for (size_t done = 0; done < expected;) {
    io_uring_cqe* cqe = nullptr;
    int rc = timeout != nullptr ? io_uring_wait_cqe_timeout(ring_.get(), &cqe, timeout)
                                : io_uring_wait_cqe(ring_.get(), &cqe);
    if (rc == -EINTR) continue;
    if (rc < 0) return false;
    uint64_t index = io_uring_cqe_get_data64(cqe);
    if (index < expected) results_[index] = cqe->res;
    io_uring_cqe_seen(ring_.get(), cqe);
    ++done;
  }
  return true;
}

// A receive from an empty socket and a send to a full one must fail at once
// with EAGAIN. A kernel that instead waits for the socket would block the
// worker in submit_and_wait(); the check gives it a second before giving up.
bool IoRing::honours_dont_wait() {
  SocketPair pair;
  if (!pair.ok()) return false;
  pair.fill_writer();
  char byte = 0;
  iovec iov{&byte, 1};
  msghdr message{};
  message.msg_iov = &iov;
  message.msg_iovlen = 1;
  queue_receive(pair.writer(), &byte, 1);  // nothing was ever written the other way
  queue_send(pair.writer(), &message);
  __kernel_timespec one_second{1, 0};
  if (!complete_all(&one_second)) return false;  // the ring's destructor cancels what waits
  return results_[0] == -EAGAIN && results_[1] == -EAGAIN;
}

}  // namespace stellwerk::net

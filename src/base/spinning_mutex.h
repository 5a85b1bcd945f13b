// A mutex that spins for a moment before it sleeps.
//
// The broker lock is held for short calls (one connection's input, one
// commit) by two or more workers in turn. When one worker finds it taken, the
// holder is usually about to let go: a futex sleep and wake-up costs far more
// than that wait, more so in a VM where a wake-up crosses the hypervisor.
// glibc's adaptive mutex spins for a bounded time before it sleeps.
#pragma once

#include <pthread.h>

namespace stellwerk::base {

class SpinningMutex {
 public:
  SpinningMutex() {
    pthread_mutexattr_t attributes;
    pthread_mutexattr_init(&attributes);
    pthread_mutexattr_settype(&attributes, PTHREAD_MUTEX_ADAPTIVE_NP);
    pthread_mutex_init(&mutex_, &attributes);
    pthread_mutexattr_destroy(&attributes);
  }
  ~SpinningMutex() { pthread_mutex_destroy(&mutex_); }
  SpinningMutex(const SpinningMutex&) = delete;
  SpinningMutex& operator=(const SpinningMutex&) = delete;

  void lock() { pthread_mutex_lock(&mutex_); }
  bool try_lock() { return pthread_mutex_trylock(&mutex_) == 0; }
  void unlock() { pthread_mutex_unlock(&mutex_); }

 private:
  pthread_mutex_t mutex_;
};

}  // namespace stellwerk::base

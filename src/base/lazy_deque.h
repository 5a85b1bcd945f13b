// A queue (base/ring.h) that allocates nothing until the first element
// arrives. A session has two (queue, in flight) and a socket's output one,
// so empty queues that each allocated on construction (as libstdc++'s
// std::deque does: its map and a 512-byte block) made every idle connection
// carry well over a kilobyte. Only what their users need is offered. Once
// used, the queue is kept unless its owner calls release_if_empty(): a busy
// queue would otherwise allocate and free it for every message. Like
// std::vector's, references are valid until the next push or erase.
//
// Released deques go to a small pool per thread and type, and the next queue
// that needs one takes it from there: when thousands of connections each get
// one message now and then, their queues are non-empty only briefly, so a few
// deques serve them all instead of one allocation and free of the map and a
// block per message (docs/performance.md, slow pairs).
#pragma once

#include <memory>
#include <vector>

#include "base/ring.h"

namespace stellwerk {

template <typename T>
class LazyDeque {
 public:
  using iterator = typename Ring<T>::iterator;
  using const_iterator = typename Ring<T>::const_iterator;

  bool empty() const { return !items_ || items_->empty(); }
  size_t size() const { return items_ ? items_->size() : 0; }
  T& front() { return items_->front(); }
  T& back() { return items_->back(); }
  const T& front() const { return items_->front(); }
  void push_back(T value) { used().push_back(std::move(value)); }
  template <typename... Args>
  T& emplace_back(Args&&... args) {
    return used().emplace_back(std::forward<Args>(args)...);
  }
  void pop_front() { items_->pop_front(); }
  iterator erase(iterator at) { return items_->erase(at); }
  void clear() {
    if (items_) items_->clear();
  }
  // Gives the memory back when nothing is queued (for queues that are idle
  // most of their life, like a socket's output between bursts).
  void release_if_empty() {
    if (!items_ || !items_->empty()) return;
    std::vector<std::unique_ptr<Ring<T>>>& pool = spare_pool();
    if (pool.size() < kSparePoolSize) pool.push_back(std::move(items_));
    items_.reset();
  }

  iterator begin() { return used().begin(); }
  iterator end() { return used().end(); }
  const_iterator begin() const { return items_ ? std::as_const(*items_).begin() : none().begin(); }
  const_iterator end() const { return items_ ? std::as_const(*items_).end() : none().end(); }

 private:
  static constexpr size_t kSparePoolSize = 64;

  Ring<T>& used() {
    if (!items_) items_ = take_spare();
    return *items_;
  }
  static std::vector<std::unique_ptr<Ring<T>>>& spare_pool() {
    thread_local std::vector<std::unique_ptr<Ring<T>>> pool;
    return pool;
  }
  static std::unique_ptr<Ring<T>> take_spare() {
    std::vector<std::unique_ptr<Ring<T>>>& pool = spare_pool();
    if (pool.empty()) return std::make_unique<Ring<T>>();
    std::unique_ptr<Ring<T>> spare = std::move(pool.back());
    pool.pop_back();
    return spare;
  }
  static const Ring<T>& none() {
    static const Ring<T> empty;
    return empty;
  }

  std::unique_ptr<Ring<T>> items_;
};

}  // namespace stellwerk

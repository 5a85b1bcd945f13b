// A std::deque that allocates nothing until the first element arrives.
// libstdc++'s deque allocates its map and a 512-byte block when constructed;
// a session has two (queue, in flight) and a socket's output one, so every
// idle connection carried well over a kilobyte of empty queues. Only what
// their users need is offered. Once used, the deque is kept unless its owner
// calls release_if_empty(): a busy queue would otherwise allocate and free it
// for every message.
//
// Released deques go to a small pool per thread and type, and the next queue
// that needs one takes it from there: when thousands of connections each get
// one message now and then, their queues are non-empty only briefly, so a few
// deques serve them all instead of one allocation and free of the map and a
// block per message (docs/performance.md, slow pairs).
#pragma once

#include <deque>
#include <memory>
#include <vector>

namespace stellwerk {

template <typename T>
class LazyDeque {
 public:
  using iterator = typename std::deque<T>::iterator;
  using const_iterator = typename std::deque<T>::const_iterator;

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
    std::vector<std::unique_ptr<std::deque<T>>>& pool = spare_pool();
    if (pool.size() < kSparePoolSize) pool.push_back(std::move(items_));
    items_.reset();
  }

  iterator begin() { return used().begin(); }
  iterator end() { return used().end(); }
  const_iterator begin() const { return items_ ? items_->cbegin() : none().cbegin(); }
  const_iterator end() const { return items_ ? items_->cend() : none().cend(); }

 private:
  static constexpr size_t kSparePoolSize = 64;

  std::deque<T>& used() {
    if (!items_) items_ = take_spare();
    return *items_;
  }
  static std::vector<std::unique_ptr<std::deque<T>>>& spare_pool() {
    thread_local std::vector<std::unique_ptr<std::deque<T>>> pool;
    return pool;
  }
  static std::unique_ptr<std::deque<T>> take_spare() {
    std::vector<std::unique_ptr<std::deque<T>>>& pool = spare_pool();
    if (pool.empty()) return std::make_unique<std::deque<T>>();
    std::unique_ptr<std::deque<T>> spare = std::move(pool.back());
    pool.pop_back();
    return spare;
  }
  static const std::deque<T>& none() {
    static const std::deque<T> empty;
    return empty;
  }

  std::unique_ptr<std::deque<T>> items_;
};

}  // namespace stellwerk

// A std::deque that allocates nothing until the first element arrives.
// libstdc++'s deque allocates its map and a 512-byte block when constructed;
// a session has two (queue, in flight), so every idle connection carried over
// a kilobyte of empty queues. Only what Session needs is offered. Once used,
// the deque is kept: a busy session would otherwise allocate and free it for
// every message.
#pragma once

#include <deque>
#include <memory>

namespace stellwerk::session {

template <typename T>
class LazyDeque {
 public:
  using iterator = typename std::deque<T>::iterator;
  using const_iterator = typename std::deque<T>::const_iterator;

  bool empty() const { return !items_ || items_->empty(); }
  size_t size() const { return items_ ? items_->size() : 0; }
  T& front() { return items_->front(); }
  T& back() { return items_->back(); }
  void push_back(T value) { used().push_back(std::move(value)); }
  void pop_front() { items_->pop_front(); }
  iterator erase(iterator at) { return items_->erase(at); }
  void clear() {
    if (items_) items_->clear();
  }

  iterator begin() { return used().begin(); }
  iterator end() { return used().end(); }
  const_iterator begin() const { return items_ ? items_->cbegin() : none().cbegin(); }
  const_iterator end() const { return items_ ? items_->cend() : none().cend(); }

 private:
  std::deque<T>& used() {
    if (!items_) items_ = std::make_unique<std::deque<T>>();
    return *items_;
  }
  static const std::deque<T>& none() {
    static const std::deque<T> empty;
    return empty;
  }

  std::unique_ptr<std::deque<T>> items_;
};

}  // namespace stellwerk::session

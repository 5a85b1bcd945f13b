// A first-in first-out queue in one circular array that keeps its memory
// while it cycles: what a session's in-flight window and queue and a
// socket's output need. libstdc++'s std::deque frees a 512-byte block each
// time its front leaves one and allocates one each time its back needs one,
// so a window that a steady stream of messages passes through cost a malloc
// and a free every ten or so deliveries, the frees often on malloc's slow
// path (docs/performance.md, 100 pairs QoS 1).
//
// Like std::vector, adding may move the elements: references and iterators
// are valid until the next push or erase. The array doubles when full and
// halves when a quarter full (above kKeptCapacity), so memory follows what
// is queued, not the peak.
#pragma once

#include <cstddef>
#include <iterator>
#include <memory>
#include <utility>

namespace stellwerk {

template <typename T>
class Ring {
  template <bool Const>
  class Iterator;

 public:
  using iterator = Iterator<false>;
  using const_iterator = Iterator<true>;
  // Kept through shrinking: small rings cycle without reallocating.
  static constexpr size_t kKeptCapacity = 64;

  Ring() = default;
  Ring(const Ring&) = delete;
  Ring& operator=(const Ring&) = delete;
  ~Ring() {
    destroy_all();
    std::allocator<T>().deallocate(slots_, capacity_);
  }

  bool empty() const { return size_ == 0; }
  size_t size() const { return size_; }
  size_t capacity() const { return capacity_; }
  T& operator[](size_t i) { return slots_[slot(i)]; }
  const T& operator[](size_t i) const { return slots_[slot(i)]; }
  T& front() { return (*this)[0]; }
  const T& front() const { return (*this)[0]; }
  T& back() { return (*this)[size_ - 1]; }
  const T& back() const { return (*this)[size_ - 1]; }

  template <typename... Args>
  T& emplace_back(Args&&... args) {
    if (size_ == capacity_) reallocate(capacity_ == 0 ? kFirstCapacity : capacity_ * 2);
    T* place = &slots_[slot(size_)];
    std::construct_at(place, std::forward<Args>(args)...);
    ++size_;
    return *place;
  }
  void push_back(T value) { emplace_back(std::move(value)); }

  void pop_front() {
    std::destroy_at(&front());
    head_ = slot(1);
    --size_;
    shrink_if_sparse();
  }

  // Removes one element, keeping the order of the others; returns the
  // position of the one after it.
  iterator erase(const_iterator at) {
    const size_t index = at.index_;
    if (index == 0) {
      pop_front();
      return begin();
    }
    for (size_t i = index; i + 1 < size_; ++i) (*this)[i] = std::move((*this)[i + 1]);
    std::destroy_at(&back());
    --size_;
    shrink_if_sparse();
    return iterator(this, index);
  }

  // Empties the ring; a large array is given back.
  void clear() {
    destroy_all();
    if (capacity_ > kKeptCapacity) {
      std::allocator<T>().deallocate(slots_, capacity_);
      slots_ = nullptr;
      capacity_ = 0;
    }
  }

  iterator begin() { return iterator(this, 0); }
  iterator end() { return iterator(this, size_); }
  const_iterator begin() const { return const_iterator(this, 0); }
  const_iterator end() const { return const_iterator(this, size_); }

 private:
  static constexpr size_t kFirstCapacity = 8;

  template <bool Const>
  class Iterator {
    using RingType = std::conditional_t<Const, const Ring, Ring>;

   public:
    using iterator_category = std::forward_iterator_tag;
    using value_type = T;
    using difference_type = std::ptrdiff_t;
    using pointer = std::conditional_t<Const, const T*, T*>;
    using reference = std::conditional_t<Const, const T&, T&>;

    Iterator() = default;
    Iterator(RingType* ring, size_t index) : ring_(ring), index_(index) {}
    // A mutable iterator converts to a const one (as erase takes).
    operator Iterator<true>() const { return Iterator<true>(ring_, index_); }  // NOLINT: as std containers

    reference operator*() const { return (*ring_)[index_]; }
    pointer operator->() const { return &(*ring_)[index_]; }
    Iterator& operator++() {
      ++index_;
      return *this;
    }
    Iterator operator++(int) {
      Iterator before = *this;
      ++index_;
      return before;
    }
    bool operator==(const Iterator& other) const { return index_ == other.index_ && ring_ == other.ring_; }

   private:
    friend class Ring;
    RingType* ring_ = nullptr;
    size_t index_ = 0;
  };

  // Capacities are powers of two, so wrapping is a mask.
  size_t slot(size_t index) const { return (head_ + index) & (capacity_ - 1); }

  void destroy_all() {
    for (size_t i = 0; i < size_; ++i) std::destroy_at(&(*this)[i]);
    head_ = 0;
    size_ = 0;
  }

  void shrink_if_sparse() {
    if (capacity_ > kKeptCapacity && size_ * 4 <= capacity_) reallocate(capacity_ / 2);
  }

  // Moves the elements, in order, to the start of a new array.
  void reallocate(size_t capacity) {
    T* slots = std::allocator<T>().allocate(capacity);
    for (size_t i = 0; i < size_; ++i) {
      std::construct_at(&slots[i], std::move((*this)[i]));
      std::destroy_at(&(*this)[i]);
    }
    std::allocator<T>().deallocate(slots_, capacity_);
    slots_ = slots;
    capacity_ = capacity;
    head_ = 0;
  }

  T* slots_ = nullptr;
  size_t capacity_ = 0;
  size_t head_ = 0;
  size_t size_ = 0;
};

}  // namespace stellwerk

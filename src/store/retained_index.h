// The store mirror's retained messages: a set of session::MessagePtr keyed
// by each message's own topic, in one array of plain 8-byte slots.
//
// A million retained topics must cost the mirror little beside the message
// itself, so a slot is the message pointer and nothing else (null = empty):
// no stored hash, no probe distance. Lookups hash the topic asked for and
// compare it with the topic of each message they pass. Collisions go to the
// next slot (linear probing); erase shifts the run after the hole back
// (backward-shift deletion), so there are no tombstones. The array grows by
// half when it is more than 7/8 full, so a full table holds between 58 %
// and 88 % of its slots: 9 to 14 bytes per message.
//
// Not thread-safe; const methods may run concurrently with each other.
#pragma once

#include <algorithm>
#include <cstddef>
#include <functional>
#include <iterator>
#include <memory>
#include <string_view>
#include <utility>

#include "session/message.h"

namespace stellwerk::store {

class RetainedIndex {
 public:
  // Iterates the messages in slot order (no particular order).
  class const_iterator {
   public:
    using iterator_category = std::forward_iterator_tag;
    using value_type = session::MessagePtr;
    using difference_type = std::ptrdiff_t;
    using pointer = const session::MessagePtr*;
    using reference = const session::MessagePtr&;

    const_iterator() = default;
    reference operator*() const { return *slot_; }
    pointer operator->() const { return slot_; }
    const_iterator& operator++() {
      ++slot_;
      skip_empty();
      return *this;
    }
    const_iterator operator++(int) {
      const_iterator before = *this;
      ++*this;
      return before;
    }
    bool operator==(const const_iterator& other) const { return slot_ == other.slot_; }

   private:
    friend class RetainedIndex;
    const_iterator(const session::MessagePtr* slot, const session::MessagePtr* end) : slot_(slot), end_(end) {
      skip_empty();
    }
    void skip_empty() {
      while (slot_ != end_ && !*slot_) ++slot_;
    }
    const session::MessagePtr* slot_ = nullptr;
    const session::MessagePtr* end_ = nullptr;
  };

  RetainedIndex() = default;
  RetainedIndex(RetainedIndex&& other) noexcept { swap(other); }
  RetainedIndex& operator=(RetainedIndex&& other) noexcept {
    RetainedIndex(std::move(other)).swap(*this);
    return *this;
  }
  RetainedIndex(const RetainedIndex&) = delete;
  RetainedIndex& operator=(const RetainedIndex&) = delete;

  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  size_t capacity() const { return capacity_; }
  const_iterator begin() const { return const_iterator(slots_.get(), slots_.get() + capacity_); }
  const_iterator end() const { return const_iterator(slots_.get() + capacity_, slots_.get() + capacity_); }

  // Makes room for `count` messages without growing again.
  void reserve(size_t count) {
    if (count > max_size_for(capacity_)) rehash(capacity_for(count));
  }

  // The message retained under `topic`, or null.
  const session::MessagePtr* find(std::string_view topic) const {
    const size_t index = find_index(topic);
    return index == kNone ? nullptr : &slots_[index];
  }

  // Adds `message` unless a message with its topic is there already.
  // Returns that slot and whether `message` went in. The slot may be
  // overwritten with another message of the same topic (a replacement).
  std::pair<session::MessagePtr*, bool> insert(session::MessagePtr message) {
    const size_t index = find_index(message->topic());
    if (index != kNone) return {&slots_[index], false};
    return {&insert_new(std::move(message)), true};
  }

  // Adds `message`, whose topic must not be in the index: no comparisons,
  // for filling from a list known to have distinct topics.
  session::MessagePtr& insert_new(session::MessagePtr message) {
    if (size_ + 1 > max_size_for(capacity_)) rehash(grown_capacity());
    ++size_;
    return place(std::move(message));
  }

  // Removes the message retained under `topic`; false when there is none.
  bool erase(std::string_view topic) {
    const size_t index = find_index(topic);
    if (index == kNone) return false;
    slots_[index].reset();
    --size_;
    shift_back(index);
    return true;
  }

  // Calls `visit(MessagePtr&)` for every message. It may replace a message
  // by another with the same topic, nothing else.
  template <typename Visit>
  void for_each_slot(Visit&& visit) {
    for (size_t i = 0; i < capacity_; ++i) {
      if (slots_[i]) visit(slots_[i]);
    }
  }

  void clear() { RetainedIndex().swap(*this); }
  void swap(RetainedIndex& other) noexcept {
    std::swap(slots_, other.slots_);
    std::swap(capacity_, other.capacity_);
    std::swap(size_, other.size_);
  }

 private:
  static constexpr size_t kNone = static_cast<size_t>(-1);
  static constexpr size_t kMinCapacity = 16;

  static size_t max_size_for(size_t capacity) { return capacity - capacity / 8; }
  static size_t capacity_for(size_t count) { return std::max(kMinCapacity, count + count / 7 + 1); }
  size_t grown_capacity() const { return std::max(kMinCapacity, capacity_ + capacity_ / 2); }

  // Maps the hash onto [0, capacity) by multiplication, as the capacity is
  // no power of two.
  size_t home_of(std::string_view topic) const {
    const auto hash = static_cast<unsigned __int128>(std::hash<std::string_view>()(topic));
    return static_cast<size_t>(hash * capacity_ >> 64);
  }
  size_t next(size_t index) const { return index + 1 == capacity_ ? 0 : index + 1; }

  size_t find_index(std::string_view topic) const {
    if (size_ == 0) return kNone;
    for (size_t index = home_of(topic);; index = next(index)) {
      const session::MessagePtr& slot = slots_[index];
      if (!slot) return kNone;
      if (slot->topic() == topic) return index;
    }
  }

  session::MessagePtr& place(session::MessagePtr message) {
    size_t index = home_of(message->topic());
    while (slots_[index]) index = next(index);
    slots_[index] = std::move(message);
    return slots_[index];
  }

  // Closes the hole at `hole`: each later message of the run whose home is
  // not between the hole and its slot (cyclically) moves into the hole.
  void shift_back(size_t hole) {
    for (size_t index = next(hole); slots_[index]; index = next(index)) {
      const size_t home = home_of(slots_[index]->topic());
      const bool stays = hole <= index ? (hole < home && home <= index) : (hole < home || home <= index);
      if (stays) continue;
      slots_[hole] = std::move(slots_[index]);
      hole = index;
    }
  }

  void rehash(size_t capacity) {
    std::unique_ptr<session::MessagePtr[]> old =
        std::exchange(slots_, std::make_unique<session::MessagePtr[]>(capacity));
    const size_t old_capacity = std::exchange(capacity_, capacity);
    for (size_t i = 0; i < old_capacity; ++i) {
      if (old[i]) place(std::move(old[i]));
    }
  }

  std::unique_ptr<session::MessagePtr[]> slots_;
  size_t capacity_ = 0;
  size_t size_ = 0;
};

}  // namespace stellwerk::store

// The subscribers that share one filter at one trie node, with their values.
//
// Matching walks this list on every PUBLISH, so entries sit in one vector. Most
// filters have a handful of subscribers and a linear search finds them; a
// filter that many clients share (think "sensors/#" on a dashboard fleet)
// would make subscribe and unsubscribe quadratic, so past kIndexedFrom entries
// a hash index from subscriber to position is kept beside the vector.
#pragma once

#include <tsl/robin_map.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

namespace stellwerk::topics {

using SubscriberId = uint64_t;

// How erase() fills the hole: swapping in the last entry is O(1); keeping the
// order is what round-robin over a shared group needs.
enum class RemovalOrder { any, keep };

template <typename Value>
class SubscriberList {
 public:
  struct Entry {
    SubscriberId id;
    Value value;
  };

  // Returns true when `id` was new, false when its value was replaced.
  bool upsert(SubscriberId id, Value value) {
    if (std::optional<size_t> at = position(id)) {
      entries_[*at].value = std::move(value);
      return false;
    }
    entries_.push_back(Entry{id, std::move(value)});
    if (index_) {
      index_->emplace(id, entries_.size() - 1);
    } else if (entries_.size() > kIndexedFrom) {
      build_index();
    }
    return true;
  }

  // Removes `id`. Returns the position it had, or nullopt when absent.
  std::optional<size_t> erase(SubscriberId id, RemovalOrder order) {
    const std::optional<size_t> at = position(id);
    if (!at) return std::nullopt;
    if (order == RemovalOrder::keep) {
      erase_keeping_order(*at);
    } else {
      erase_by_swap(*at);
    }
    if (index_ && entries_.size() < kIndexedFrom / 2) index_.reset();
    return at;
  }

  std::optional<size_t> position(SubscriberId id) const {
    if (index_) {
      auto it = index_->find(id);
      return it == index_->end() ? std::nullopt : std::optional<size_t>(it->second);
    }
    for (size_t i = 0; i < entries_.size(); ++i) {
      if (entries_[i].id == id) return i;
    }
    return std::nullopt;
  }

  size_t size() const { return entries_.size(); }
  bool empty() const { return entries_.empty(); }
  const Entry& operator[](size_t i) const { return entries_[i]; }
  auto begin() const { return entries_.begin(); }
  auto end() const { return entries_.end(); }

 private:
  static constexpr size_t kIndexedFrom = 16;
  using Index = tsl::robin_map<SubscriberId, size_t>;

  void build_index() {
    index_ = std::make_unique<Index>(entries_.size() * 2);
    for (size_t i = 0; i < entries_.size(); ++i) index_->emplace(entries_[i].id, i);
  }

  void erase_by_swap(size_t at) {
    if (index_) index_->erase(entries_[at].id);
    if (at + 1 != entries_.size()) {
      entries_[at] = std::move(entries_.back());
      if (index_) (*index_)[entries_[at].id] = at;
    }
    entries_.pop_back();
  }

  void erase_keeping_order(size_t at) {
    if (index_) index_->erase(entries_[at].id);
    entries_.erase(entries_.begin() + static_cast<std::ptrdiff_t>(at));
    if (!index_) return;
    for (size_t i = at; i < entries_.size(); ++i) (*index_)[entries_[i].id] = i;
  }

  std::vector<Entry> entries_;
  std::unique_ptr<Index> index_;
};

}  // namespace stellwerk::topics

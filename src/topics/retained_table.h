// The children of one retained-tree node: an open-addressing table.
//
// A slot holds a pointer to a child node or, when the tree can read a value's
// topic from the value itself (RetainedTree's KeyOf), a leaf's value inline:
// most retained topics end in a leaf, and a leaf kept in its parent's table
// costs neither an allocation nor a copy of its text. The table stores no
// keys either. Its caller passes a function that reads an entry's first level
// (from the child node's text or from the value's topic), and each slot has
// one tag byte: occupied, holds a value, and six bits of the level's hash, so
// a lookup reads the level of about one entry, not of every entry it probes.
//
// Up to kLinearMax entries the table is a plain array without spare slots,
// scanned in full. Above that it is a Robin Hood table: linear probing from
// the hash's home slot, each run kept in the order of its homes, with every
// entry's distance from home in a byte beside the tag. A lookup stops as soon
// as it meets an entry nearer its home than the wanted one would be, and an
// insert or erase shifts the rest of a run by one slot, all without reading
// any entry's level. The table stays at most 3/4 full (inserts shift fewer
// entries than at a fuller table) and grows by half.
// Entries have no order: RetainedTree sorts where it must.
//
// The table owns its block and the values in it, not the child nodes: the
// tree frees those itself, without recursion.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <memory>
#include <new>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace stellwerk::topics::retained {

inline std::string_view first_level(std::string_view text) {
  const size_t slash = text.find('/');
  return slash == std::string_view::npos ? text : text.substr(0, slash);
}

// Raw storage for a Node* or, with kInline, a Value; the table's tag byte
// says which one lives there.
template <typename Node, typename Value, bool kInline>
class Slot {
 public:
  Node* node() const { return *std::launder(reinterpret_cast<Node* const*>(bytes_)); }
  void put_node(Node* node) { new (bytes_) Node*(node); }

  Value& value() requires kInline { return *std::launder(reinterpret_cast<Value*>(bytes_)); }
  const Value& value() const requires kInline {
    return *std::launder(reinterpret_cast<const Value*>(bytes_));
  }
  void put_value(Value&& value) requires kInline { new (bytes_) Value(std::move(value)); }
  void destroy_value() requires kInline { std::destroy_at(&value()); }

  // Moves this slot's content to the raw slot `to`.
  void relocate_to(Slot& to, bool holds_value) {
    if constexpr (kInline) {
      if (holds_value) {
        to.put_value(std::move(value()));
        destroy_value();
        return;
      }
    }
    to.put_node(node());
  }

 private:
  static constexpr size_t kSize = kInline ? std::max(sizeof(Value), sizeof(Node*)) : sizeof(Node*);
  static constexpr size_t kAlign = kInline ? std::max(alignof(Value), alignof(Node*)) : alignof(Node*);
  alignas(kAlign) std::byte bytes_[kSize];
};

template <typename Node, typename Value, bool kInline>
class ChildTable {
 public:
  using SlotType = Slot<Node, Value, kInline>;
  static constexpr size_t kNone = SIZE_MAX;

  ChildTable() = default;
  ChildTable(const ChildTable&) = delete;
  ChildTable& operator=(const ChildTable&) = delete;
  ChildTable(ChildTable&& other) noexcept
      : block_(std::exchange(other.block_, nullptr)), capacity_(std::exchange(other.capacity_, 0)) {}
  // Values held here are destroyed; child nodes must have been freed.
  ChildTable& operator=(ChildTable&& other) noexcept {
    if (this != &other) {
      release();
      block_ = std::exchange(other.block_, nullptr);
      capacity_ = std::exchange(other.capacity_, 0);
    }
    return *this;
  }
  ~ChildTable() { release(); }

  size_t size() const { return block_ == nullptr ? 0 : block_->count; }
  size_t capacity() const { return capacity_; }
  bool occupied(size_t index) const { return metas()[index].tag != 0; }
  bool holds_value(size_t index) const { return (metas()[index].tag & kHoldsValue) != 0; }
  const SlotType& slot(size_t index) const { return slots()[index]; }
  SlotType& slot(size_t index) { return slots()[index]; }

  // LevelOf: std::string_view(const SlotType&, bool holds_value), the first
  // level of that entry. Returns the entry's index or kNone. The probe stops
  // at the first entry nearer its home than `level` would be: Robin Hood
  // order says `level` would sit before it.
  template <typename LevelOf>
  size_t find(std::string_view level, const LevelOf& level_of) const {
    if (block_ == nullptr) return kNone;
    const uint64_t hash = hash_of(level);
    const uint8_t wanted = tag_of(hash, false);
    const size_t capacity = capacity_;
    size_t index = home(hash, capacity);
    for (size_t distance = 0; distance < capacity; ++distance) {
      const Meta meta = metas()[index];
      if (meta.tag == 0 || meta.distance < stored_distance(distance)) return kNone;
      if ((meta.tag & ~kHoldsValue) == wanted &&
          level_of(slots()[index], (meta.tag & kHoldsValue) != 0) == level) {
        return index;
      }
      index = next(index);
    }
    return kNone;
  }

  // Makes room for `count` entries, so that adding up to that many cannot fail.
  template <typename LevelOf>
  void reserve(size_t count, const LevelOf& level_of) {
    if (count > max_count(capacity())) rebuild(capacity_for(count), level_of);
  }

  // Adds an entry whose first level is `level`, which must not be present.
  template <typename LevelOf>
  void add_node(std::string_view level, Node* node, const LevelOf& level_of) {
    reserve(size() + 1, level_of);
    slots()[place(hash_of(level), false, level_of)].put_node(node);
  }
  template <typename LevelOf>
  void add_value(std::string_view level, Value&& value, const LevelOf& level_of) requires kInline {
    const uint64_t hash = hash_of(level);  // `level` may point into `value`
    reserve(size() + 1, level_of);
    slots()[place(hash, true, level_of)].put_value(std::move(value));
  }

  // Replace an entry in place, keeping its first level: a value held there
  // is destroyed, a node pointer is the caller's to free.
  void set_node(size_t index, Node* node) {
    destroy_value_at(index);
    slots()[index].put_node(node);
    metas()[index].tag &= static_cast<uint8_t>(~kHoldsValue);
  }
  void set_value(size_t index, Value&& value) requires kInline {
    destroy_value_at(index);
    slots()[index].put_value(std::move(value));
    metas()[index].tag |= kHoldsValue;
  }

  // Removes an entry; a value held there is destroyed, a node is the caller's.
  // The rest of its run moves back one slot, up to an entry at its home.
  template <typename LevelOf>
  void remove(size_t index, const LevelOf& level_of) {
    destroy_value_at(index);
    size_t gap = index;
    for (size_t later = next(gap); occupied(later) && metas()[later].distance != 0; later = next(later)) {
      const size_t distance = exact_distance(later, level_of);
      slots()[later].relocate_to(slots()[gap], holds_value(later));
      metas()[gap] = Meta{metas()[later].tag, stored_distance(distance - 1)};
      gap = later;
    }
    metas()[gap] = Meta{0, 0};
    const size_t count = --block_->count;
    const size_t capacity = capacity_;
    const bool sparse = capacity <= kLinearMax ? count <= capacity / 2 : count < capacity / 4;
    if (count == 0) {
      release();
    } else if (sparse) {
      rebuild(capacity_for(count), level_of);
    }
  }

 private:
  struct Header {
    uint64_t count;
  };
  // Per slot. tag 0: empty. distance: from the entry's home slot, kFar for
  // kFar or more (only a flood of colliding levels gets there).
  struct Meta {
    uint8_t tag;
    uint8_t distance;
  };
  static constexpr uint8_t kOccupied = 0x80;
  static constexpr uint8_t kHoldsValue = 0x40;
  static constexpr uint8_t kHashBits = 0x3f;
  static constexpr uint8_t kFar = 0xff;
  static constexpr size_t kLinearMax = 8;
  static_assert(alignof(SlotType) <= __STDCPP_DEFAULT_NEW_ALIGNMENT__);

  ChildTable(Header* block, size_t capacity) : block_(block), capacity_(static_cast<uint32_t>(capacity)) {}

  static uint64_t hash_of(std::string_view level) { return std::hash<std::string_view>{}(level); }
  static uint8_t tag_of(uint64_t hash, bool holds_value) {
    return static_cast<uint8_t>(kOccupied | (holds_value ? kHoldsValue : 0) | (hash & kHashBits));
  }
  static uint8_t stored_distance(size_t distance) {
    return static_cast<uint8_t>(std::min<size_t>(distance, kFar));
  }
  // The high half of the hash picks the home slot, the low bits make the
  // tag. Small tables are arrays: every home is the first slot.
  static size_t home(uint64_t hash, size_t capacity) {
    return capacity <= kLinearMax ? 0 : static_cast<size_t>(((hash >> 32) * capacity) >> 32);
  }
  static size_t max_count(size_t capacity) {
    return capacity <= kLinearMax ? capacity : capacity - capacity / 4;
  }
  static size_t capacity_for(size_t count) { return count <= kLinearMax ? count : count + count / 2; }

  static size_t slots_offset(size_t capacity) {
    const size_t align = alignof(SlotType);
    return (sizeof(Header) + capacity * sizeof(Meta) + align - 1) / align * align;
  }
  static size_t block_bytes(size_t capacity) { return slots_offset(capacity) + capacity * sizeof(SlotType); }

  Meta* metas() const { return reinterpret_cast<Meta*>(block_ + 1); }
  SlotType* slots() const {
    return reinterpret_cast<SlotType*>(reinterpret_cast<std::byte*>(block_) + slots_offset(capacity_));
  }
  size_t next(size_t index) const { return index + 1 == capacity_ ? 0 : index + 1; }
  size_t previous(size_t index) const { return (index == 0 ? capacity_ : index) - 1; }

  // The distance of the entry at `index` from its home; only a saturated
  // one is computed from the entry's level.
  template <typename LevelOf>
  size_t exact_distance(size_t index, const LevelOf& level_of) const {
    const uint8_t stored = metas()[index].distance;
    if (stored != kFar) return stored;
    const size_t capacity = capacity_;
    const size_t from = home(hash_of(level_of(slots()[index], holds_value(index))), capacity);
    return (index + capacity - from) % capacity;
  }

  // Claims the slot for a new entry, Robin Hood style: before the first entry
  // nearer its home than the new one, moving the rest of the run up one slot
  // (one further from home each, which needs no hashing). Returns its index.
  // The comparison uses exact distances: passing an entry that is in truth
  // nearer its home would break the order that lets lookups stop early.
  template <typename LevelOf>
  size_t place(uint64_t hash, bool new_holds_value, const LevelOf& level_of) {
    size_t index = home(hash, capacity_);
    size_t distance = 0;
    while (occupied(index) && exact_distance(index, level_of) >= distance) {
      index = next(index);
      ++distance;
    }
    size_t end = index;
    while (occupied(end)) end = next(end);
    for (size_t to = end; to != index; to = previous(to)) {
      const size_t from = previous(to);
      slots()[from].relocate_to(slots()[to], holds_value(from));
      const Meta moved = metas()[from];
      metas()[to] = Meta{moved.tag, moved.distance == kFar ? kFar : static_cast<uint8_t>(moved.distance + 1)};
    }
    metas()[index] = Meta{tag_of(hash, new_holds_value), stored_distance(distance)};
    ++block_->count;
    return index;
  }

  void destroy_value_at(size_t index) {
    if constexpr (kInline) {
      if (holds_value(index)) slots()[index].destroy_value();
    }
  }

  // Re-hashing reads every entry's level, a cache miss or two each; in a
  // pass of its own those misses overlap, as no entry waits for another.
  template <typename LevelOf>
  void rebuild(size_t capacity, const LevelOf& level_of) {
    std::vector<uint64_t> hashes;
    hashes.reserve(size());
    for (size_t index = 0; index < this->capacity(); ++index) {
      if (occupied(index)) hashes.push_back(hash_of(level_of(slots()[index], holds_value(index))));
    }
    void* memory = ::operator new(block_bytes(capacity));
    ChildTable fresh(new (memory) Header{0}, capacity);
    std::memset(static_cast<void*>(fresh.metas()), 0, capacity * sizeof(Meta));
    const uint64_t* hash = hashes.data();
    for (size_t index = 0; index < this->capacity(); ++index) {
      if (!occupied(index)) continue;
      const bool value = holds_value(index);
      slots()[index].relocate_to(fresh.slots()[fresh.place(*hash++, value, level_of)], value);
    }
    free_block();
    block_ = std::exchange(fresh.block_, nullptr);
    capacity_ = std::exchange(fresh.capacity_, 0);
  }

  void release() {
    if (block_ == nullptr) return;
    if constexpr (kInline) {
      for (size_t index = 0; index < capacity_; ++index) destroy_value_at(index);
    }
    free_block();
  }

  // Frees the block; whatever lived in it has been moved or destroyed.
  void free_block() {
    if (block_ == nullptr) return;
    ::operator delete(block_);
    block_ = nullptr;
    capacity_ = 0;
  }

  Header* block_ = nullptr;
  // Here rather than in the block: a lookup needs it before its first probe,
  // and the owner's cache line is at hand where the block's first line is not.
  uint32_t capacity_ = 0;
};

}  // namespace stellwerk::topics::retained

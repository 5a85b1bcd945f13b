// A pool of small fixed-size blocks for objects that live long and come by
// the million (retained messages: issue 4 asks for at most 64 bytes per
// retained message above topic and payload, and malloc alone costs 8 to 23
// of them: an 8-byte chunk header and rounding to 16).
//
// DESIGN: blocks come in size classes 8 bytes apart, up to kMaxBlockSize.
// Each class carves its blocks out of slabs of kSlabSize bytes aligned to
// their size, so a block finds its slab (and the slab its class) from its
// address, and blocks carry no header of their own. Freed blocks go on
// their slab's free list; a slab whose last block is freed is returned to
// the system unless it is its class's only slab with room, so memory follows
// what is held rather than the peak. One mutex per class: blocks are taken
// and given back on any thread (workers, the store's threads), and the pool
// serves the rarer long-lived objects, not every delivery.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <mutex>

namespace stellwerk::base {

class BlockPool {
 public:
  static constexpr size_t kGranule = 8;
  static constexpr size_t kMaxBlockSize = 512;
  static constexpr size_t kSlabSize = size_t{64} << 10;

  BlockPool() = default;
  // Every block must have been given back.
  ~BlockPool();
  BlockPool(const BlockPool&) = delete;
  BlockPool& operator=(const BlockPool&) = delete;

  // A block of at least `size` bytes (1..kMaxBlockSize), aligned to 8;
  // null when the system has no memory left.
  void* allocate(size_t size);
  // Gives back a block that allocate() returned, from any thread.
  void release(void* block);

  // Bytes of slabs held from the system, in use or not (what a process's
  // heap figure does not see: slabs are mapped apart from malloc's arena).
  size_t reserved_bytes() const { return reserved_bytes_.load(std::memory_order_relaxed); }
  size_t blocks_in_use() const { return blocks_in_use_.load(std::memory_order_relaxed); }

  // The block size that serves a request of `size` bytes.
  static constexpr size_t block_size_for(size_t size) { return (size + kGranule - 1) / kGranule * kGranule; }

 private:
  struct Slab;
  struct SizeClass {
    std::mutex lock;
    Slab* with_room = nullptr;  // doubly linked: slabs with a free or never used block
  };
  static constexpr size_t kClassCount = kMaxBlockSize / kGranule;

  Slab* new_slab(size_t class_index);
  void give_back(Slab* slab);
  static void link(SizeClass& size_class, Slab* slab);
  static void unlink(SizeClass& size_class, Slab* slab);

  std::array<SizeClass, kClassCount> classes_;
  std::atomic<size_t> reserved_bytes_{0};
  std::atomic<size_t> blocks_in_use_{0};
};

}  // namespace stellwerk::base

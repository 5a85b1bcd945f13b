// Slabs come from mmap, aligned to their size by trimming a mapping of twice
// that size, so that a block's slab is its address rounded down.
#include "base/block_pool.h"

#include <sys/mman.h>

#include <cassert>
#include <new>

namespace stellwerk::base {

struct BlockPool::Slab {
  Slab* previous = nullptr;
  Slab* next = nullptr;
  void* free = nullptr;  // freed blocks, each holding the address of the next
  char* unused = nullptr;  // the first block never handed out
  char* end = nullptr;
  uint32_t used = 0;
  uint32_t block_size = 0;
  uint32_t class_index = 0;
  bool listed = false;

  bool has_room() const { return free != nullptr || unused + block_size <= end; }
  void* take() {
    ++used;
    if (free) {
      void* block = free;
      free = *static_cast<void**>(block);
      return block;
    }
    void* block = unused;
    unused += block_size;
    return block;
  }
  void put(void* block) {
    --used;
    *static_cast<void**>(block) = free;
    free = block;
  }
};

namespace {

// The first block starts a cache line after the slab's header.
constexpr size_t kFirstBlockOffset = 64;
static_assert(sizeof(void*) <= BlockPool::kGranule, "a free block holds the next one's address");

void* map_aligned(size_t size) {
  const size_t span = 2 * size;
  void* raw = mmap(nullptr, span, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (raw == MAP_FAILED) return nullptr;
  const auto raw_address = reinterpret_cast<uintptr_t>(raw);
  const uintptr_t start = (raw_address + size - 1) & ~(uintptr_t{size} - 1);
  const size_t head = start - raw_address;
  const size_t tail = span - head - size;
  if (head != 0) munmap(raw, head);
  if (tail != 0) munmap(reinterpret_cast<void*>(start + size), tail);
  return reinterpret_cast<void*>(start);
}

}  // namespace

BlockPool::~BlockPool() {
  assert(blocks_in_use() == 0);
  for (SizeClass& size_class : classes_) {
    while (Slab* slab = size_class.with_room) {
      unlink(size_class, slab);
      give_back(slab);
    }
  }
}

void* BlockPool::allocate(size_t size) {
  assert(size > 0 && size <= kMaxBlockSize);
  const size_t class_index = block_size_for(size) / kGranule - 1;
  SizeClass& size_class = classes_[class_index];
  std::lock_guard guard(size_class.lock);
  Slab* slab = size_class.with_room;
  if (slab == nullptr) {
    slab = new_slab(class_index);
    if (slab == nullptr) return nullptr;
    link(size_class, slab);
  }
  void* block = slab->take();
  if (!slab->has_room()) unlink(size_class, slab);
  blocks_in_use_.fetch_add(1, std::memory_order_relaxed);
  return block;
}

void BlockPool::release(void* block) {
  auto* slab = reinterpret_cast<Slab*>(reinterpret_cast<uintptr_t>(block) & ~(uintptr_t{kSlabSize} - 1));
  SizeClass& size_class = classes_[slab->class_index];
  bool empty_and_spare = false;
  {
    std::lock_guard guard(size_class.lock);
    slab->put(block);
    if (!slab->listed) link(size_class, slab);
    // Another slab with room stays to serve the class; keeping this one
    // would hold memory nobody uses.
    if (slab->used == 0 && (size_class.with_room != slab || slab->next != nullptr)) {
      unlink(size_class, slab);
      empty_and_spare = true;
    }
  }
  blocks_in_use_.fetch_sub(1, std::memory_order_relaxed);
  if (empty_and_spare) give_back(slab);
}

BlockPool::Slab* BlockPool::new_slab(size_t class_index) {
  static_assert(sizeof(Slab) <= kFirstBlockOffset, "the header fits before the first block");
  void* memory = map_aligned(kSlabSize);
  if (memory == nullptr) return nullptr;
  reserved_bytes_.fetch_add(kSlabSize, std::memory_order_relaxed);
  auto* slab = new (memory) Slab;
  slab->block_size = static_cast<uint32_t>((class_index + 1) * kGranule);
  slab->class_index = static_cast<uint32_t>(class_index);
  slab->unused = static_cast<char*>(memory) + kFirstBlockOffset;
  slab->end = static_cast<char*>(memory) + kSlabSize;
  return slab;
}

void BlockPool::give_back(Slab* slab) {
  slab->~Slab();
  munmap(slab, kSlabSize);
  reserved_bytes_.fetch_sub(kSlabSize, std::memory_order_relaxed);
}

void BlockPool::link(SizeClass& size_class, Slab* slab) {
  slab->previous = nullptr;
  slab->next = size_class.with_room;
  if (slab->next) slab->next->previous = slab;
  size_class.with_room = slab;
  slab->listed = true;
}

void BlockPool::unlink(SizeClass& size_class, Slab* slab) {
  if (slab->previous) slab->previous->next = slab->next;
  else size_class.with_room = slab->next;
  if (slab->next) slab->next->previous = slab->previous;
  slab->previous = slab->next = nullptr;
  slab->listed = false;
}

}  // namespace stellwerk::base

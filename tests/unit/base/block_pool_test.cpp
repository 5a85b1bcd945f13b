// BlockPool: blocks of the requested size class, reused after release,
// empty slabs given back, safe from several threads.
#include "base/block_pool.h"

#include <gtest/gtest.h>

#include <cstring>
#include <set>
#include <thread>
#include <vector>

namespace stellwerk::base {
namespace {

TEST(BlockPoolTest, BlocksAreAlignedDistinctAndWritable) {
  BlockPool pool;
  std::set<void*> seen;
  std::vector<void*> blocks;
  for (size_t size = 1; size <= BlockPool::kMaxBlockSize; size += 7) {
    void* block = pool.allocate(size);
    ASSERT_NE(block, nullptr);
    EXPECT_EQ(reinterpret_cast<uintptr_t>(block) % 8, 0u);
    std::memset(block, 0xAB, size);
    EXPECT_TRUE(seen.insert(block).second);
    blocks.push_back(block);
  }
  EXPECT_EQ(pool.blocks_in_use(), blocks.size());
  for (void* block : blocks) pool.release(block);
  EXPECT_EQ(pool.blocks_in_use(), 0u);
}

TEST(BlockPoolTest, SizesRoundUpToEightBytes) {
  EXPECT_EQ(BlockPool::block_size_for(1), 8u);
  EXPECT_EQ(BlockPool::block_size_for(8), 8u);
  EXPECT_EQ(BlockPool::block_size_for(100), 104u);
  EXPECT_EQ(BlockPool::block_size_for(BlockPool::kMaxBlockSize), BlockPool::kMaxBlockSize);
}

TEST(BlockPoolTest, NeighbouringBlocksOfAClassAreOneClassApart) {
  BlockPool pool;
  auto* first = static_cast<char*>(pool.allocate(100));
  auto* second = static_cast<char*>(pool.allocate(97));  // the same class: 104 bytes
  EXPECT_EQ(second - first, 104);
  pool.release(first);
  pool.release(second);
}

TEST(BlockPoolTest, AReleasedBlockIsHandedOutAgain) {
  BlockPool pool;
  void* keep = pool.allocate(64);  // keeps the slab
  void* block = pool.allocate(64);
  pool.release(block);
  EXPECT_EQ(pool.allocate(60), block);
  pool.release(block);
  pool.release(keep);
}

TEST(BlockPoolTest, MemoryFollowsWhatIsHeldNotThePeak) {
  BlockPool pool;
  std::vector<void*> blocks;
  for (int i = 0; i < 100'000; ++i) blocks.push_back(pool.allocate(104));
  const size_t peak = pool.reserved_bytes();
  EXPECT_GE(peak, 100'000u * 104);
  EXPECT_LE(peak, 100'000u * 104 * 11 / 10);  // slab headers and one partly used slab
  for (void* block : blocks) pool.release(block);
  EXPECT_EQ(pool.reserved_bytes(), BlockPool::kSlabSize);  // one slab stays for the class
  EXPECT_EQ(pool.blocks_in_use(), 0u);
}

TEST(BlockPoolTest, ThreadsTakeAndGiveBackBlocksOfEachOther) {
  BlockPool pool;
  constexpr int kPerThread = 20'000;
  std::vector<std::vector<void*>> taken(4);
  std::vector<std::thread> threads;
  for (auto& mine : taken) {
    threads.emplace_back([&pool, &mine] {
      for (int i = 0; i < kPerThread; ++i) {
        void* block = pool.allocate(8 + static_cast<size_t>(i % 5) * 8);
        *static_cast<int*>(block) = i;
        mine.push_back(block);
      }
    });
  }
  for (auto& thread : threads) thread.join();
  threads.clear();
  // Each thread gives back what another took.
  for (size_t t = 0; t < taken.size(); ++t) {
    threads.emplace_back([&pool, &blocks = taken[(t + 1) % taken.size()]] {
      for (size_t i = 0; i < blocks.size(); ++i) {
        EXPECT_EQ(*static_cast<int*>(blocks[i]), static_cast<int>(i));
        pool.release(blocks[i]);
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(pool.blocks_in_use(), 0u);
  EXPECT_LE(pool.reserved_bytes(), 5 * BlockPool::kSlabSize);  // at most one per class used
}

}  // namespace
}  // namespace stellwerk::base

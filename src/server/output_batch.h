// Output for connections, collected under the broker lock and applied later
// by the worker that owns each connection (docs/design/threading.md).
//
// Most items are a small PUBLISH or acknowledgement: their bytes go into one
// buffer shared by the batch, which keeps its capacity from one use to the
// next, so a delivery costs no allocation here. A message sent to many
// subscribers comes as the same bytes for each, one after another (the
// broker's publish cache): those are stored once and shared by their items,
// which keeps a fan-out's batch small, the more so when another worker's
// core has to read it. Large items keep a string of their own, moved along
// to the socket's queue without being copied again.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "net/worker.h"

namespace stellwerk::server {

class OutputBatch {
 public:
  // Bytes up to this size are copied into the shared buffer.
  static constexpr size_t kSmallItem = 512;
  // A buffer grown past this by a burst is given back when cleared.
  static constexpr size_t kKeptCapacity = 1 << 20;

  // 16 bytes: a fan-out writes one per subscriber, often into memory the
  // other worker's core reads next, so every byte here costs twice.
  struct Item {
    net::ConnectionId id = 0;
    uint32_t where = 0;      // offset into the shared buffer, or index into owned_ when `owned`
    uint32_t size : 29 = 0;  // of a small item's bytes
    uint32_t owned : 1 = 0;
    uint32_t droppable : 1 = 0;
    uint32_t close : 1 = 0;  // write what is queued, then close
  };

  void add(net::ConnectionId id, std::string_view bytes, bool droppable) {
    if (bytes.size() > kSmallItem) {
      add_owned(id, std::string(bytes), droppable);
      return;
    }
    items_.push_back(Item{.id = id,
                          .where = store(bytes),
                          .size = static_cast<uint32_t>(bytes.size()),
                          .droppable = droppable});
  }

  void add_close(net::ConnectionId id) { items_.push_back(Item{.id = id, .close = true}); }

  // Takes over an item of batch `from`. Large bytes are moved, not copied.
  void take(OutputBatch& from, const Item& item) {
    if (item.close) {
      add_close(item.id);
    } else if (item.owned) {
      add_owned(item.id, std::move(from.owned_[item.where]), item.droppable);
    } else {
      add(item.id, from.bytes_of(item), item.droppable);
    }
  }

  std::string_view bytes_of(const Item& item) const {
    if (item.owned) return owned_[item.where];
    return std::string_view(buffer_).substr(item.where, item.size);
  }

  // A large item's bytes, handed over whole (the item is then spent).
  std::string take_owned(const Item& item) { return std::move(owned_[item.where]); }

  std::vector<Item>& items() { return items_; }
  bool empty() const { return items_.empty(); }

  void clear() {
    items_.clear();
    owned_.clear();
    buffer_.clear();
    if (buffer_.capacity() > kKeptCapacity) buffer_.shrink_to_fit();
    last_ = {};
  }

  void swap(OutputBatch& other) {
    items_.swap(other.items_);
    owned_.swap(other.owned_);
    buffer_.swap(other.buffer_);
    std::swap(last_, other.last_);
  }

 private:
  void add_owned(net::ConnectionId id, std::string bytes, bool droppable) {
    items_.push_back(
        Item{.id = id, .where = static_cast<uint32_t>(owned_.size()), .owned = true, .droppable = droppable});
    owned_.push_back(std::move(bytes));
  }

  // The offset of `bytes` in the buffer: that of the bytes stored last when
  // they came from the same place with the same contents (a caller may
  // reuse its buffer for other bytes of the same size), else a new copy.
  uint32_t store(std::string_view bytes) {
    const bool repeated = bytes.data() == last_.source && bytes.size() == last_.size &&
                          std::string_view(buffer_).substr(last_.offset, last_.size) == bytes;
    if (!repeated) {
      last_ = Last{bytes.data(), static_cast<uint32_t>(buffer_.size()), static_cast<uint32_t>(bytes.size())};
      buffer_.append(bytes);
    }
    return last_.offset;
  }

  struct Last {
    const char* source = nullptr;
    uint32_t offset = 0;
    uint32_t size = 0;
  };
  std::vector<Item> items_;
  std::vector<std::string> owned_;  // large items' bytes
  std::string buffer_;
  Last last_;  // where the bytes stored last came from, and where they went
};

}  // namespace stellwerk::server

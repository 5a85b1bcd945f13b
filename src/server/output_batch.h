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

  struct Item {
    net::ConnectionId id = 0;
    uint32_t offset = 0;  // into the batch's buffer, unless `own` holds the bytes
    uint32_t size = 0;
    bool droppable = false;
    bool close = false;  // write what is queued, then close
    std::string own;
  };

  void add(net::ConnectionId id, std::string_view bytes, bool droppable) {
    Item item{.id = id, .droppable = droppable};
    if (bytes.size() > kSmallItem) {
      item.own.assign(bytes);
    } else {
      item.offset = store(bytes);
      item.size = static_cast<uint32_t>(bytes.size());
    }
    items_.push_back(std::move(item));
  }

  void add_close(net::ConnectionId id) { items_.push_back(Item{.id = id, .close = true}); }

  // Takes over an item of another batch (or a held one); `bytes` are its bytes
  // there. An item that owns its bytes keeps them without a copy.
  void take(Item& item, std::string_view bytes) {
    if (item.close) {
      add_close(item.id);
    } else if (!item.own.empty() && item.own.size() > kSmallItem) {
      items_.push_back(std::move(item));
    } else {
      add(item.id, bytes, item.droppable);
    }
  }

  std::string_view bytes_of(const Item& item) const {
    if (!item.own.empty()) return item.own;
    return std::string_view(buffer_).substr(item.offset, item.size);
  }

  // Gives `item` a copy of its bytes, so that it can outlive this batch.
  void make_own(Item& item) const {
    if (item.own.empty() && item.size > 0) item.own.assign(bytes_of(item));
  }

  std::vector<Item>& items() { return items_; }
  bool empty() const { return items_.empty(); }

  void clear() {
    items_.clear();
    buffer_.clear();
    if (buffer_.capacity() > kKeptCapacity) buffer_.shrink_to_fit();
    last_ = {};
  }

  void swap(OutputBatch& other) {
    items_.swap(other.items_);
    buffer_.swap(other.buffer_);
    std::swap(last_, other.last_);
  }

 private:
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
  std::string buffer_;
  Last last_;  // where the bytes stored last came from, and where they went
};

}  // namespace stellwerk::server

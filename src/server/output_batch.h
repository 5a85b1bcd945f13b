// Output for connections, collected under the broker lock and applied later
// by the worker that owns each connection (docs/design/threading.md).
//
// Most items are a small PUBLISH or acknowledgement: their bytes go into one
// buffer shared by the batch, which keeps its capacity from one use to the
// next, so a delivery costs no allocation here. Large items keep a string of
// their own, moved along to the socket's queue without being copied again.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
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
      item.offset = static_cast<uint32_t>(buffer_.size());
      item.size = static_cast<uint32_t>(bytes.size());
      buffer_.append(bytes);
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
  }

  void swap(OutputBatch& other) {
    items_.swap(other.items_);
    buffer_.swap(other.buffer_);
  }

 private:
  std::vector<Item> items_;
  std::string buffer_;
};

}  // namespace stellwerk::server

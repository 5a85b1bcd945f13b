// Input read during a worker's loop turn, handed to the broker in one go.
//
// With more than one worker, every broker call takes the one broker lock
// (docs/design/threading.md). Taken once per socket read, the lock and the
// broker's state move between the cores many times per turn, and a worker
// that finds the lock taken may sleep and be woken. So a worker copies what
// it reads and hands the turn's input to the broker under one lock (or more,
// past kFlushBytes). Input of one connection keeps its order, and any other
// broker call made on the worker handles the pending input first, so a close
// or a timer never overtakes bytes read before it.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "net/connection_handler.h"

namespace stellwerk::server {

class TurnInput {
 public:
  // Past this many bytes the input goes to the broker before more is read.
  static constexpr size_t kFlushBytes = 256 * 1024;
  // A buffer grown past this by a burst is given back when taken.
  static constexpr size_t kKeptCapacity = 1 << 20;

  void add(net::ConnectionId id, std::span<const uint8_t> bytes) {
    chunks_.push_back(Chunk{id, bytes_.size(), bytes.size()});
    bytes_.append(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  }

  bool empty() const { return chunks_.empty(); }
  bool full() const { return bytes_.size() >= kFlushBytes; }

  // Calls handle(id, bytes) for every chunk in the order added, then empties.
  template <typename Handle>
  void take(Handle&& handle) {
    for (const Chunk& chunk : chunks_) {
      handle(chunk.id, std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(bytes_.data()) + chunk.offset,
                                                chunk.size));
    }
    chunks_.clear();
    bytes_.clear();
    if (bytes_.capacity() > kKeptCapacity) bytes_.shrink_to_fit();
  }

 private:
  struct Chunk {
    net::ConnectionId id;
    size_t offset;
    size_t size;
  };
  std::string bytes_;
  std::vector<Chunk> chunks_;
};

}  // namespace stellwerk::server

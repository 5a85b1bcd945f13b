// Packet ids awaiting an acknowledgement, oldest first, in a fixed ring.
//
// The broker must acknowledge QoS 1 and 2 PUBLISH packets in the order they
// arrived [MQTT-4.6.0-2] [MQTT-4.6.0-3], so an acknowledgement normally takes
// the front entry and the generator notices one that does not. PUBCOMP has no
// such rule, so remove() also finds an id further back.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace stellwerk::bench {

class IdQueue {
 public:
  explicit IdQueue(size_t capacity = 0) : ring_(capacity) {}

  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  bool full() const { return size_ == ring_.size(); }

  // The caller keeps size() below capacity (the publisher's window).
  void push(uint16_t id) {
    ring_[(head_ + size_) % ring_.size()] = id;
    ++size_;
  }

  enum class Removed { front, later, absent };
  Removed remove(uint16_t id) {
    if (size_ == 0) return Removed::absent;
    if (ring_[head_] == id) {
      head_ = (head_ + 1) % ring_.size();
      --size_;
      return Removed::front;
    }
    for (size_t i = 1; i < size_; ++i) {
      if (ring_[(head_ + i) % ring_.size()] != id) continue;
      close_gap(i);
      return Removed::later;
    }
    return Removed::absent;
  }

 private:
  // Shifts the entries after position `at` one step towards the front.
  void close_gap(size_t at) {
    for (size_t i = at; i + 1 < size_; ++i) {
      ring_[(head_ + i) % ring_.size()] = ring_[(head_ + i + 1) % ring_.size()];
    }
    --size_;
  }

  std::vector<uint16_t> ring_;
  size_t head_ = 0;
  size_t size_ = 0;
};

}  // namespace stellwerk::bench

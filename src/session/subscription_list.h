// A session's own list of its subscriptions: filter -> options. The broker's
// topic tree routes messages; this list tells whether a SUBSCRIBE is new or
// replaces one (retain handling 1), and what to take out of the tree when
// the session ends.
//
// Most sessions have one subscription or a few, and a broker holds a session
// per connection, so the entries are a plain vector: about 40 bytes each
// plus the filter's characters, where a std::map node costs 80 and the empty
// map 48. A session with many subscriptions (a backend subscribing per
// device) gets an index from filter to position once it passes kIndexFrom, so
// adding and removing never scan a long list. Order is not kept: removing
// moves the last entry into the hole.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "mqtt/packet.h"

namespace stellwerk::session {

struct Subscription {
  mqtt::SubscriptionOptions options;
  uint32_t identifier = 0;  // v5 Subscription Identifier, 0 = none
};

class SubscriptionList {
 public:
  using Entry = std::pair<std::string, Subscription>;
  static constexpr size_t kIndexFrom = 16;

  // Adds or replaces the subscription to `filter`; true when it is new.
  bool insert_or_assign(const std::string& filter, const Subscription& subscription);
  // False when there was none.
  bool erase(std::string_view filter);
  const Subscription* find(std::string_view filter) const;

  size_t size() const { return entries_.size(); }
  bool empty() const { return entries_.empty(); }
  auto begin() const { return entries_.begin(); }
  auto end() const { return entries_.end(); }

 private:
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  using Index = std::unordered_map<std::string, size_t, Hash, std::equal_to<>>;

  std::optional<size_t> position(std::string_view filter) const;
  void build_index();

  std::vector<Entry> entries_;
  std::unique_ptr<Index> index_;  // null while the list is short
};

}  // namespace stellwerk::session

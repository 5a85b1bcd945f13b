// The children of a trie node, keyed by level text.
//
// Each child node owns its level string and the map's key is a view of that
// string, so a level is stored once and lookups by string_view need no
// temporary std::string. The view stays valid because the child lives on the
// heap (unique_ptr) and its string is never modified. tsl::robin_map keeps
// buckets in one array and stores each key's hash, which makes a miss cheap:
// the common case when a topic level has no subscribers below it.
#pragma once

#include <tsl/robin_map.h>

#include <functional>
#include <memory>
#include <string_view>
#include <utility>

namespace stellwerk::topics {

template <typename Node>
using LevelMap = tsl::robin_map<std::string_view, std::unique_ptr<Node>, std::hash<std::string_view>,
                                std::equal_to<std::string_view>,
                                std::allocator<std::pair<std::string_view, std::unique_ptr<Node>>>,
                                /*StoreHash=*/true>;

template <typename Node>
Node* find_child(const LevelMap<Node>& children, std::string_view level) {
  auto it = children.find(level);
  return it == children.end() ? nullptr : it->second.get();
}

// Returns the child for `level`, creating it when missing. Node must be
// constructible from (std::string_view level, Node* parent) and keep the level
// in a std::string member named `level`.
template <typename Node>
Node& find_or_add_child(LevelMap<Node>& children, Node* parent, std::string_view level) {
  if (Node* existing = find_child(children, level)) return *existing;
  auto child = std::make_unique<Node>(level, parent);
  Node& added = *child;
  const std::string_view key = added.level;
  children.emplace(key, std::move(child));
  return added;
}

// Removes the child at `level`. Erasing through an iterator matters: the key
// view points into the child that is being destroyed.
template <typename Node>
void remove_child(LevelMap<Node>& children, std::string_view level) {
  auto it = children.find(level);
  if (it != children.end()) children.erase(it);
}

}  // namespace stellwerk::topics

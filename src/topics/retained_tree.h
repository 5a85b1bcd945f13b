// The retained-message tree: the last retained value per topic name.
//
// One node per topic level, like the subscription trie but keyed by topic
// names, so lookups are exact and wildcards live in the query instead: on
// SUBSCRIBE, match() walks the tree along a filter and reports every stored
// topic it covers. The walk keeps its own stack of pending nodes rather than
// recursing (topics may have thousands of levels) and rebuilds each topic name
// in one buffer as it goes, so a node stores only its own level.
//
// Not thread-safe; const methods may run concurrently with each other.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "topics/level_map.h"
#include "topics/levels.h"

namespace stellwerk::topics {

template <typename Value>
class RetainedTree {
 public:
  RetainedTree() = default;
  RetainedTree(const RetainedTree&) = delete;
  RetainedTree& operator=(const RetainedTree&) = delete;
  // A moved-from tree may only be destroyed or assigned to.
  RetainedTree(RetainedTree&&) noexcept = default;
  RetainedTree& operator=(RetainedTree&&) noexcept = default;

  // Inserts or replaces the value retained for `topic` (a valid topic name).
  void set(std::string_view topic, Value value) {
    Node* node = root_.get();
    LevelCursor levels(topic);
    while (levels.has_next()) node = &find_or_add_child(node->children, node, levels.next());
    if (!node->value) ++size_;
    node->value = std::move(value);
  }

  // Returns false when nothing was retained for `topic`.
  bool erase(std::string_view topic) {
    Node* node = find_node(topic);
    if (node == nullptr || !node->value) return false;
    node->value.reset();
    --size_;
    prune(node);
    return true;
  }

  // The value retained for `topic`, or nullptr. Valid until the next change.
  [[nodiscard]] const Value* find(std::string_view topic) const {
    const Node* node = find_node(topic);
    return node != nullptr && node->value ? &*node->value : nullptr;
  }

  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }

  // Calls visit(std::string_view topic, const Value&) for each retained topic
  // that the non-shared filter `filter` matches.
  template <typename Visit>
  void match(std::string_view filter, Visit&& visit) const {
    Walk walk;
    push_matches(*root_, filter, 0, 0, walk.pending);
    while (!walk.pending.empty()) {
      const Frame frame = walk.pending.back();
      walk.pending.pop_back();
      const Node& node = *frame.node;
      walk.name_node(frame);
      if (frame.filter_offset == kWholeSubtree) {
        walk.visit_value(node, visit);
        push_children(node, kWholeSubtree, walk);
      } else if (frame.filter_offset == kFilterEnd) {
        walk.visit_value(node, visit);
      } else {
        // "a/#" also matches "a" itself [MQTT-4.7.1-2].
        if (filter.substr(frame.filter_offset) == "#") walk.visit_value(node, visit);
        push_matches(node, filter, frame.filter_offset, walk.name.size(), walk.pending);
      }
    }
  }

  // Calls visit(std::string_view topic, const Value&) for every retained topic,
  // '$' topics included.
  template <typename Visit>
  void for_each(Visit&& visit) const {
    Walk walk;
    push_children(*root_, kWholeSubtree, walk);
    while (!walk.pending.empty()) {
      const Frame frame = walk.pending.back();
      walk.pending.pop_back();
      walk.name_node(frame);
      walk.visit_value(*frame.node, visit);
      push_children(*frame.node, kWholeSubtree, walk);
    }
  }

  // Nodes below the root; shows that erase prunes.
  size_t node_count() const {
    size_t count = 0;
    for_each_node([&count](const Node&) { ++count; });
    return count;
  }

 private:
  struct Node {
    Node(std::string_view level_text, Node* parent_node) : level(level_text), parent(parent_node) {}
    bool is_unused() const { return !value && children.empty(); }

    std::string level;
    Node* parent;
    LevelMap<Node> children;
    std::optional<Value> value;
  };

  // Where a pending node stands in the filter: the offset of the filter level
  // its children must match, or one of these two markers.
  static constexpr size_t kFilterEnd = std::string_view::npos;
  static constexpr size_t kWholeSubtree = std::string_view::npos - 1;

  struct Frame {
    const Node* node;
    size_t parent_name_length;  // the parent's topic is walk.name[0, this)
    size_t filter_offset;
  };

  // State of one depth-first walk. Frames are popped in the reverse order of
  // pushing, so when a frame is popped the name buffer still starts with its
  // parent's topic: everything written since then was below a sibling.
  struct Walk {
    std::vector<Frame> pending;
    std::string name;

    void name_node(const Frame& frame) {
      name.resize(frame.parent_name_length);
      if (frame.node->parent->parent != nullptr) name.push_back('/');
      name.append(frame.node->level);
    }

    template <typename Visit>
    void visit_value(const Node& node, Visit& visit) const {
      if (node.value) visit(std::string_view{name}, static_cast<const Value&>(*node.value));
    }
  };

  // Pushes the children of `node` that match the filter level at `offset`.
  void push_matches(const Node& node, std::string_view filter, size_t offset, size_t name_length,
                    std::vector<Frame>& pending) const {
    const size_t slash = filter.find('/', offset);
    const std::string_view level =
        filter.substr(offset, slash == std::string_view::npos ? slash : slash - offset);
    const size_t next = slash == std::string_view::npos ? kFilterEnd : slash + 1;
    if (is_multi_level_wildcard(level) || is_single_level_wildcard(level)) {
      const size_t child_offset = is_multi_level_wildcard(level) ? kWholeSubtree : next;
      const bool hide_dollar = &node == root_.get();  // [MQTT-4.7.2-1]
      for (const auto& [child_level, child] : node.children) {
        if (hide_dollar && is_dollar_level(child_level)) continue;
        pending.push_back(Frame{child.get(), name_length, child_offset});
      }
    } else if (const Node* child = find_child(node.children, level)) {
      pending.push_back(Frame{child, name_length, next});
    }
  }

  static void push_children(const Node& node, size_t filter_offset, Walk& walk) {
    for (const auto& [level, child] : node.children) {
      walk.pending.push_back(Frame{child.get(), walk.name.size(), filter_offset});
    }
  }

  template <typename Callback>
  void for_each_node(Callback&& callback) const {
    std::vector<const Node*> pending;
    for (const auto& [level, child] : root_->children) pending.push_back(child.get());
    while (!pending.empty()) {
      const Node* node = pending.back();
      pending.pop_back();
      callback(*node);
      for (const auto& [level, child] : node->children) pending.push_back(child.get());
    }
  }

  Node* find_node(std::string_view topic) const {
    Node* node = root_.get();
    LevelCursor levels(topic);
    while (node != nullptr && levels.has_next()) node = find_child(node->children, levels.next());
    return node;
  }

  void prune(Node* node) {
    while (node != root_.get() && node->is_unused()) {
      Node* parent = node->parent;
      remove_child(parent->children, std::string_view{node->level});
      node = parent;
    }
  }

  // On the heap so that children's parent pointers survive a move of the tree.
  std::unique_ptr<Node> root_ = std::make_unique<Node>(std::string_view{}, nullptr);
  size_t size_ = 0;
};

}  // namespace stellwerk::topics

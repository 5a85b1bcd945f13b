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

#include <algorithm>
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
    while (levels.has_next()) node = &find_or_add_child(mutable_children(*node), node, levels.next());
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

  // Calls visit(std::string_view topic, const Value&) in topic order for each
  // retained topic that the non-shared filter `filter` matches and that sorts
  // after `after` (nullopt: from the first), until visit returns false. Topic
  // order compares level by level, each level by its bytes, so "a" < "a/b" <
  // "a-b": the order a tree walk gives without sorting whole names. With
  // `dollar_topics` a wildcard in the first level also matches '$' topics.
  // Each call sorts only the children of the nodes it passes through, lazily
  // (a heap): a caller paging with a cursor pays per page for the widest
  // level it crosses, never for the whole tree.
  template <typename Visit>
  void match_after(std::string_view filter, std::optional<std::string_view> after, bool dollar_topics,
                   Visit&& visit) const {
    OrderedWalk walk{filter, after.value_or(std::string_view{}), dollar_topics};
    walk.stack.push_back(walk.root_frame(*root_, after.has_value()));
    while (!walk.stack.empty()) {
      if (walk.stack.back().heap.empty()) {
        walk.stack.pop_back();
        continue;
      }
      OrderedFrame child = walk.next_child(walk.stack.back());
      if (!child.on_cursor && child.node->value && walk.matches_here(child) &&
          !visit(std::string_view{walk.name}, static_cast<const Value&>(*child.node->value))) {
        return;
      }
      walk.stack.push_back(std::move(child));
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
    bool is_unused() const { return !value && (!children || children->empty()); }

    std::string level;
    Node* parent;
    // Allocated with the first child: most nodes are leaves, and an empty
    // map would cost them 80 bytes each (docs/performance.md, issue 4).
    std::unique_ptr<LevelMap<Node>> children;
    std::optional<Value> value;
  };

  static const LevelMap<Node>& children_of(const Node& node) {
    static const LevelMap<Node> none;
    return node.children ? *node.children : none;
  }
  static LevelMap<Node>& mutable_children(Node& node) {
    if (!node.children) node.children = std::make_unique<LevelMap<Node>>();
    return *node.children;
  }

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

  // One node of an ordered walk: its children still to visit form a min-heap
  // by level. A node "on the cursor" has the same leading levels as the
  // cursor, so it and every child before the cursor's next level were seen.
  static constexpr size_t kCursorDone = std::string_view::npos;
  struct OrderedFrame {
    const Node* node;
    size_t name_length;
    size_t filter_offset;
    bool on_cursor;
    size_t cursor_offset;  // the cursor's next level, or kCursorDone
    std::vector<const Node*> heap;
  };

  struct OrderedWalk {
    std::string_view filter;
    std::string_view cursor;
    bool dollar_topics;
    std::vector<OrderedFrame> stack;
    std::string name;

    static bool later(const Node* a, const Node* b) { return a->level > b->level; }

    static std::pair<std::string_view, size_t> level_at(std::string_view text, size_t offset) {
      const size_t slash = text.find('/', offset);
      if (slash == std::string_view::npos) return {text.substr(offset), kCursorDone};
      return {text.substr(offset, slash - offset), slash + 1};
    }

    OrderedFrame root_frame(const Node& root, bool has_cursor) {
      OrderedFrame frame{&root, 0, 0, has_cursor, 0, {}};
      fill_heap(frame, /*is_root=*/true);
      return frame;
    }

    // "a/#" also matches "a" itself [MQTT-4.7.1-2].
    bool matches_here(const OrderedFrame& frame) const {
      return frame.filter_offset == kFilterEnd || frame.filter_offset == kWholeSubtree ||
             filter.substr(frame.filter_offset) == "#";
    }

    OrderedFrame next_child(OrderedFrame& parent) {
      std::pop_heap(parent.heap.begin(), parent.heap.end(), later);
      const Node* node = parent.heap.back();
      parent.heap.pop_back();
      OrderedFrame child{node, 0, child_filter_offset(parent), false, kCursorDone, {}};
      if (parent.on_cursor && parent.cursor_offset != kCursorDone) {
        const auto [level, next] = level_at(cursor, parent.cursor_offset);
        child.on_cursor = node->level == level;
        child.cursor_offset = next;
      }
      name.resize(parent.name_length);
      if (parent.node->parent != nullptr) name.push_back('/');
      name.append(node->level);
      child.name_length = name.size();
      fill_heap(child, /*is_root=*/false);
      return child;
    }

    size_t child_filter_offset(const OrderedFrame& parent) const {
      if (parent.filter_offset == kWholeSubtree) return kWholeSubtree;
      const auto [level, next] = level_at(filter, parent.filter_offset);
      if (is_multi_level_wildcard(level)) return kWholeSubtree;
      return next == kCursorDone ? kFilterEnd : next;
    }

    // The children the filter lets through and the cursor has not passed.
    void fill_heap(OrderedFrame& frame, bool is_root) {
      if (frame.filter_offset == kFilterEnd) return;
      std::string_view exact;
      bool wildcard = frame.filter_offset == kWholeSubtree;
      if (!wildcard) {
        exact = level_at(filter, frame.filter_offset).first;
        wildcard = is_multi_level_wildcard(exact) || is_single_level_wildcard(exact);
      }
      std::string_view lowest;
      const bool bounded = frame.on_cursor && frame.cursor_offset != kCursorDone;
      if (bounded) lowest = level_at(cursor, frame.cursor_offset).first;
      const bool hide_dollar = is_root && !dollar_topics && wildcard;  // [MQTT-4.7.2-1]
      const auto admit = [&](const Node* child) {
        if (bounded && child->level < lowest) return;
        if (hide_dollar && is_dollar_level(child->level)) return;
        frame.heap.push_back(child);
      };
      if (wildcard) {
        for (const auto& [level, child] : children_of(*frame.node)) admit(child.get());
      } else if (const Node* child = find_child(children_of(*frame.node), exact)) {
        admit(child);
      }
      std::make_heap(frame.heap.begin(), frame.heap.end(), later);
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
      for (const auto& [child_level, child] : children_of(node)) {
        if (hide_dollar && is_dollar_level(child_level)) continue;
        pending.push_back(Frame{child.get(), name_length, child_offset});
      }
    } else if (const Node* child = find_child(children_of(node), level)) {
      pending.push_back(Frame{child, name_length, next});
    }
  }

  static void push_children(const Node& node, size_t filter_offset, Walk& walk) {
    for (const auto& [level, child] : children_of(node)) {
      walk.pending.push_back(Frame{child.get(), walk.name.size(), filter_offset});
    }
  }

  template <typename Callback>
  void for_each_node(Callback&& callback) const {
    std::vector<const Node*> pending;
    for (const auto& [level, child] : children_of(*root_)) pending.push_back(child.get());
    while (!pending.empty()) {
      const Node* node = pending.back();
      pending.pop_back();
      callback(*node);
      for (const auto& [level, child] : children_of(*node)) pending.push_back(child.get());
    }
  }

  Node* find_node(std::string_view topic) const {
    Node* node = root_.get();
    LevelCursor levels(topic);
    while (node != nullptr && levels.has_next()) node = find_child(children_of(*node), levels.next());
    return node;
  }

  void prune(Node* node) {
    while (node != root_.get() && node->is_unused()) {
      Node* parent = node->parent;
      remove_child(*parent->children, std::string_view{node->level});
      if (parent->children->empty()) parent->children.reset();
      node = parent;
    }
  }

  // On the heap so that children's parent pointers survive a move of the tree.
  std::unique_ptr<Node> root_ = std::make_unique<Node>(std::string_view{}, nullptr);
  size_t size_ = 0;
};

}  // namespace stellwerk::topics

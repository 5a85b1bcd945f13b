// The retained-message tree: the last retained value per topic name.
//
// A radix tree over topic levels. An edge holds one or more whole levels
// ("device-0001234/state"): a chain of levels that neither hold a value nor
// branch is one node, split when a topic leaves it half-way and merged again
// when erase leaves a node without a value and with one child. Siblings differ
// in their first level, and each node's children live in a compact hash table
// (retained_table.h) keyed by that first level. A node is one allocation with
// its text after it; with a KeyOf that reads the topic from the value (the
// broker's messages carry their topic), a leaf is not a node at all but the
// value itself, stored in its parent's table, its text read from the value.
// For the fleet layout of issue 4 (bench/micro_topics.cpp) that is 26 bytes
// per topic instead of 400.
//
// Wildcards live in the query: on SUBSCRIBE, match() walks the tree along a
// filter and reports every stored topic it covers. Walks keep their own stack
// rather than recursing (topics may have thousands of levels) and rebuild each
// topic name in one buffer as they go; a leaf held inline reports its value's
// own topic. The tree has no parent pointers: erase remembers the two nodes
// above the one it changes, which is all that pruning and merging need.
//
// Not thread-safe; const methods may run concurrently with each other.
#pragma once

#include <algorithm>
#include <concepts>
#include <cstdint>
#include <cstring>
#include <memory>
#include <new>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "topics/levels.h"
#include "topics/retained_table.h"

namespace stellwerk::topics {

// RetainedTree's default KeyOf: the tree keeps every topic's text itself.
struct NoKey {};

// A KeyOf for values that point to an object whose `topic` (a member, or an
// accessor as in session::MessagePtr) is the topic the value is retained under.
struct TopicOfPointee {
  template <typename Pointer>
  std::string_view operator()(const Pointer& pointer) const {
    if constexpr (requires { pointer->topic(); }) {
      return pointer->topic();
    } else {
      return pointer->topic;
    }
  }
};

// KeyOf: NoKey, or a function object that returns, for a value, the topic it
// names, as a std::string_view or a reference into the value (never a
// temporary string), unchanged while the value is in the tree. A value set
// under the topic it names is held inline; one set under another topic still
// works, in a node of its own.
template <typename KeyOf, typename Value>
concept TopicKeyOf = std::is_same_v<KeyOf, NoKey> || requires(const KeyOf& key_of, const Value& value) {
  { key_of(value) } -> std::convertible_to<std::string_view>;
  requires std::is_same_v<decltype(key_of(value)), std::string_view> ||
      std::is_lvalue_reference_v<decltype(key_of(value))>;
};

template <typename Value, typename KeyOf = NoKey>
requires TopicKeyOf<KeyOf, Value>
class RetainedTree {
  static constexpr bool kInline = !std::is_same_v<KeyOf, NoKey>;
  struct Node;
  using Table = retained::ChildTable<Node, Value, kInline>;
  using Slot = typename Table::SlotType;

  static_assert(std::is_nothrow_move_constructible_v<Value> && std::is_nothrow_move_assignable_v<Value>,
                "values move between table slots");

 public:
  RetainedTree() = default;
  RetainedTree(const RetainedTree&) = delete;
  RetainedTree& operator=(const RetainedTree&) = delete;
  // A moved-from tree may only be destroyed or assigned to.
  RetainedTree(RetainedTree&& other) noexcept
      : root_(std::move(other.root_)), size_(std::exchange(other.size_, 0)) {}
  RetainedTree& operator=(RetainedTree&& other) noexcept {
    if (this != &other) {
      free_nodes();
      root_ = std::move(other.root_);
      size_ = std::exchange(other.size_, 0);
    }
    return *this;
  }
  ~RetainedTree() { free_nodes(); }

  // Inserts or replaces the value retained for `topic` (a valid topic name).
  void set(std::string_view topic, Value value) {
    Table* table = &root_;
    size_t offset = 0;
    for (;;) {
      const std::string_view rest = topic.substr(offset);
      const size_t index = table->find(retained::first_level(rest), level_reader(offset));
      if (index == Table::kNone) return add_leaf(*table, topic, offset, std::move(value));
      const std::string_view text = text_of(*table, index, offset);
      const size_t shared = shared_levels(text, rest);
      if (shared < text.size()) return split(*table, index, topic, offset, shared, std::move(value));
      if (shared == rest.size()) return replace(*table, index, topic, offset, std::move(value));
      table = &parent_at(*table, index, text).children;
      offset += text.size() + 1;
    }
  }

  // Returns false when nothing was retained for `topic`.
  bool erase(std::string_view topic) {
    Place owner;  // the node whose children hold the entry; none: the root
    Place entry{&root_, 0, 0};
    for (;;) {
      const std::string_view rest = topic.substr(entry.offset);
      entry.index = entry.table->find(retained::first_level(rest), level_reader(entry.offset));
      if (entry.index == Table::kNone) return false;
      const std::string_view text = text_of(*entry.table, entry.index, entry.offset);
      if (text == rest) break;
      if (entry.table->holds_value(entry.index) || !is_level_prefix(text, rest)) return false;
      owner = entry;
      entry = Place{&entry.table->slot(entry.index).node()->children, 0, entry.offset + text.size() + 1};
    }
    if (!entry.table->holds_value(entry.index) && !entry.table->slot(entry.index).node()->value) return false;
    --size_;
    if (remove_value(entry) && owner.table != nullptr) tidy(owner, topic);
    return true;
  }

  // The value retained for `topic`, or nullptr. Valid until the next change.
  [[nodiscard]] const Value* find(std::string_view topic) const {
    const Table* table = &root_;
    size_t offset = 0;
    for (;;) {
      const std::string_view rest = topic.substr(offset);
      const size_t index = table->find(retained::first_level(rest), level_reader(offset));
      if (index == Table::kNone) return nullptr;
      const std::string_view text = text_of(*table, index, offset);
      if constexpr (kInline) {
        if (table->holds_value(index)) return text == rest ? &table->slot(index).value() : nullptr;
      }
      const Node& node = *table->slot(index).node();
      if (text == rest) return node.value ? &*node.value : nullptr;
      if (!is_level_prefix(text, rest)) return nullptr;
      table = &node.children;
      offset += text.size() + 1;
    }
  }

  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }

  // Calls visit(std::string_view topic, const Value&) for each retained topic
  // that the non-shared filter `filter` matches.
  template <typename Visit>
  void match(std::string_view filter, Visit&& visit) const {
    walk(filter, 0, /*hide_dollar=*/true, visit);
  }

  // Calls visit(std::string_view topic, const Value&) for every retained topic,
  // '$' topics included.
  template <typename Visit>
  void for_each(Visit&& visit) const {
    walk(std::string_view{}, kWholeSubtree, /*hide_dollar=*/false, visit);
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
    OrderedWalk ordered{filter, after.value_or(std::string_view{}), {}, {}};
    const size_t cursor_state = after ? 0 : kOffCursor;
    ordered.stack.push_back(ordered_frame(root_, 0, 0, cursor_state, !dollar_topics, ordered));
    while (!ordered.stack.empty()) {
      if (ordered.stack.back().heap.empty()) {
        ordered.stack.pop_back();
        continue;
      }
      if (!ordered_step(ordered, visit)) return;
    }
  }

  // Topic levels held below the root (a node of several levels counts each),
  // the same for any shape of the tree; shows that erase prunes.
  size_t node_count() const {
    size_t count = 0;
    std::vector<std::pair<const Table*, size_t>> pending{{&root_, 0}};
    while (!pending.empty()) {
      const auto [table, offset] = pending.back();
      pending.pop_back();
      for (size_t index = 0; index < table->capacity(); ++index) {
        if (!table->occupied(index)) continue;
        const std::string_view text = text_of(*table, index, offset);
        count += static_cast<size_t>(std::count(text.begin(), text.end(), '/')) + 1;
        if (!table->holds_value(index))
          pending.emplace_back(&table->slot(index).node()->children, offset + text.size() + 1);
      }
    }
    return count;
  }

 private:
  // One or more levels of text (stored right after the struct), maybe a
  // value, and the children. Kept unless it holds a value or has two or more
  // children: a node with one child and no value is merged into that child.
  struct Node {
    Table children;
    std::optional<Value> value;
    uint32_t text_size;

    std::string_view text() const { return {reinterpret_cast<const char*>(this + 1), text_size}; }
  };

  struct FreeNode {
    void operator()(Node* node) const {
      node->~Node();
      ::operator delete(node);
    }
  };
  using NodePtr = std::unique_ptr<Node, FreeNode>;

  // A node whose text is `head`, or "head/tail" when a tail is given.
  static NodePtr make_node(std::string_view head, std::optional<std::string_view> tail = std::nullopt) {
    const size_t size = head.size() + (tail ? 1 + tail->size() : 0);
    void* memory = ::operator new(sizeof(Node) + size);
    NodePtr node(new (memory) Node{Table{}, std::nullopt, static_cast<uint32_t>(size)});
    char* text = reinterpret_cast<char*>(node.get() + 1);
    std::copy(head.begin(), head.end(), text);
    if (tail) {
      text[head.size()] = '/';
      std::copy(tail->begin(), tail->end(), text + head.size() + 1);
    }
    return node;
  }

  // An entry of a table, and where its text starts in its topic.
  struct Place {
    Table* table = nullptr;
    size_t index = 0;
    size_t offset = 0;
  };

  std::string_view key_of(const Value& value) const { return std::string_view(key_of_(value)); }

  // The text of a slot's entry, whose topic has it at `offset`.
  std::string_view text_of(const Slot& slot, bool holds_value, size_t offset) const {
    if constexpr (kInline) {
      if (holds_value) {
        std::string_view key = key_of(slot.value());
        key.remove_prefix(std::min(offset, key.size()));
        return key;
      }
    }
    return slot.node()->text();
  }
  std::string_view text_of(const Table& table, size_t index, size_t offset) const {
    return text_of(table.slot(index), table.holds_value(index), offset);
  }
  auto level_reader(size_t offset) const {
    return [this, offset](const Slot& slot, bool holds_value) {
      return retained::first_level(text_of(slot, holds_value, offset));
    };
  }

  // True when `text` is some leading levels of `topic`, not all of them.
  static bool is_level_prefix(std::string_view text, std::string_view topic) {
    return topic.size() > text.size() && topic[text.size()] == '/' && topic.starts_with(text);
  }

  // The length of the leading whole levels that `a` and `b` share; both
  // start with the same level.
  static size_t shared_levels(std::string_view a, std::string_view b) {
    const size_t same =
        static_cast<size_t>(std::mismatch(a.begin(), a.end(), b.begin(), b.end()).first - a.begin());
    if (same == a.size()) {
      if (same == b.size() || b[same] == '/') return same;
    } else if (same == b.size() && a[same] == '/') {
      return same;
    }
    return a.substr(0, same).rfind('/');
  }

  // Whether `value` may be held inline as the leaf of `topic`.
  bool fits_inline(const Value& value, std::string_view topic) const {
    if constexpr (kInline) {
      return key_of(value) == topic;
    } else {
      return false;
    }
  }

  // Adds the leaf of `topic`, whose text starts at `offset`, to `table`.
  void add_leaf(Table& table, std::string_view topic, size_t offset, Value value) {
    const std::string_view text = topic.substr(offset);
    if constexpr (kInline) {
      if (fits_inline(value, topic)) {
        table.add_value(retained::first_level(text), std::move(value), level_reader(offset));
        ++size_;
        return;
      }
    }
    NodePtr leaf = make_node(text);
    leaf->value = std::move(value);
    table.add_node(retained::first_level(text), leaf.get(), level_reader(offset));
    leaf.release();
    ++size_;
  }

  // The entry at `index` is the whole of `topic`: it takes `value`.
  void replace(Table& table, size_t index, std::string_view topic, size_t offset, Value value) {
    if constexpr (kInline) {
      if (table.holds_value(index)) return replace_inline(table, index, topic, offset, std::move(value));
    }
    Node* node = table.slot(index).node();
    if (!node->value) ++size_;
    if constexpr (kInline) {
      if (node->children.size() == 0 && fits_inline(value, topic)) {
        table.set_value(index, std::move(value));
        FreeNode{}(node);
        return;
      }
    }
    node->value = std::move(value);
  }
  void replace_inline(Table& table, size_t index, std::string_view topic, size_t offset, Value value) {
    if (fits_inline(value, topic)) {
      table.slot(index).value() = std::move(value);
      return;
    }
    NodePtr leaf = make_node(topic.substr(offset));
    leaf->value = std::move(value);
    table.set_node(index, leaf.release());
  }

  // The node at `index`, whose text is `text`, to descend into; a leaf held
  // inline becomes a node first.
  Node& parent_at(Table& table, size_t index, std::string_view text) {
    if constexpr (kInline) {
      if (table.holds_value(index)) {
        NodePtr node = make_node(text);
        node->value = std::move(table.slot(index).value());
        table.set_node(index, node.get());
        return *node.release();
      }
    }
    return *table.slot(index).node();
  }

  // `topic` shares only the first `shared` bytes (whole levels) of the text
  // of the entry at `index`: a new node for those levels takes the entry's
  // place, with the entry (shortened) and `topic`'s leaf below it. Everything
  // is allocated before anything moves, so a failed allocation changes nothing.
  void split(Table& table, size_t index, std::string_view topic, size_t offset, size_t shared, Value value) {
    const bool inline_entry = table.holds_value(index);
    const std::string_view text = text_of(table, index, offset);
    const std::string_view tail = text.substr(shared + 1);
    const size_t below = offset + shared + 1;
    const bool topic_ends_here = topic.size() == offset + shared;
    NodePtr fork = make_node(text.substr(0, shared));
    fork->children.reserve(2, level_reader(below));
    NodePtr moved = inline_entry ? nullptr : make_node(tail);
    NodePtr leaf = topic_ends_here || fits_inline(value, topic) ? nullptr : make_node(topic.substr(below));
    NodePtr old;
    if constexpr (kInline) {
      if (inline_entry) {
        fork->children.add_value(retained::first_level(tail), std::move(table.slot(index).value()),
                                 level_reader(below));
      }
    }
    if (!inline_entry) {
      old.reset(table.slot(index).node());
      moved->value = std::move(old->value);
      moved->children = std::move(old->children);
      fork->children.add_node(retained::first_level(moved->text()), moved.get(), level_reader(below));
      moved.release();
    }
    if (topic_ends_here) {
      fork->value = std::move(value);
    } else if (leaf) {
      leaf->value = std::move(value);
      fork->children.add_node(retained::first_level(leaf->text()), leaf.get(), level_reader(below));
      leaf.release();
    } else if constexpr (kInline) {
      const std::string_view leaf_text = topic.substr(below);
      fork->children.add_value(retained::first_level(leaf_text), std::move(value), level_reader(below));
    }
    table.set_node(index, fork.release());
    ++size_;
  }

  // Takes the value off the entry at `place`; returns true when the entry
  // went away with it.
  bool remove_value(const Place& place) {
    Table& table = *place.table;
    if (table.holds_value(place.index)) {
      table.remove(place.index, level_reader(place.offset));
      return true;
    }
    Node* node = table.slot(place.index).node();
    node->value.reset();
    const size_t children = node->children.size();
    if (children == 1) merge_with_child(place);
    if (children > 0) return false;
    table.remove(place.index, level_reader(place.offset));
    FreeNode{}(node);
    return true;
  }

  // The node at `owner` lost a child: it may now be redundant, or a leaf.
  void tidy(const Place& owner, std::string_view topic) {
    Node* node = owner.table->slot(owner.index).node();
    if (!node->value && node->children.size() == 1) return merge_with_child(owner);
    if constexpr (kInline) {
      if (!node->value || node->children.size() > 0) return;
      const std::string_view node_topic = topic.substr(0, owner.offset + node->text_size);
      if (!fits_inline(*node->value, node_topic)) return;
      owner.table->set_value(owner.index, std::move(*node->value));
      FreeNode{}(node);
    }
  }

  // The node at `place` has no value and one child: the child takes its place.
  void merge_with_child(const Place& place) {
    Node* node = place.table->slot(place.index).node();
    size_t only = 0;
    while (!node->children.occupied(only)) ++only;
    if constexpr (kInline) {
      if (node->children.holds_value(only)) {
        place.table->set_value(place.index, std::move(node->children.slot(only).value()));
        FreeNode{}(node);
        return;
      }
    }
    Node* child = node->children.slot(only).node();
    NodePtr merged = make_node(node->text(), child->text());
    merged->value = std::move(child->value);
    merged->children = std::move(child->children);
    FreeNode{}(child);
    FreeNode{}(node);
    place.table->set_node(place.index, merged.release());
  }

  void free_nodes() {
    std::vector<Node*> pending;
    const auto collect = [&pending](const Table& table) {
      for (size_t index = 0; index < table.capacity(); ++index) {
        if (table.occupied(index) && !table.holds_value(index)) pending.push_back(table.slot(index).node());
      }
    };
    collect(root_);
    while (!pending.empty()) {
      Node* node = pending.back();
      pending.pop_back();
      collect(node->children);
      FreeNode{}(node);
    }
    root_ = Table{};
  }

  // Where a walk stands in the filter: the offset of the next filter level to
  // match, or one of these markers.
  static constexpr size_t kFilterEnd = std::string_view::npos;
  static constexpr size_t kWholeSubtree = std::string_view::npos - 1;
  static constexpr size_t kNoMatch = std::string_view::npos - 2;

  // The level of `text` that starts at `offset`, and where the next one
  // starts (npos: none).
  static std::pair<std::string_view, size_t> level_at(std::string_view text, size_t offset) {
    const size_t slash = text.find('/', offset);
    if (slash == std::string_view::npos) return {text.substr(offset), std::string_view::npos};
    return {text.substr(offset, slash - offset), slash + 1};
  }

  // The filter state after matching the levels of `text`, or kNoMatch.
  static size_t consume(std::string_view filter, size_t state, std::string_view text) {
    if (state == kWholeSubtree) return state;
    LevelCursor levels(text);
    while (levels.has_next()) {
      const std::string_view level = levels.next();
      if (state == kFilterEnd) return kNoMatch;
      const auto [wanted, next] = level_at(filter, state);
      if (is_multi_level_wildcard(wanted)) return kWholeSubtree;
      if (!is_single_level_wildcard(wanted) && wanted != level) return kNoMatch;
      state = next;
    }
    return state;
  }

  // Whether the topic reached at `state` matches; "a/#" also matches "a"
  // itself [MQTT-4.7.1-2].
  static bool covers(std::string_view filter, size_t state) {
    return state == kFilterEnd || state == kWholeSubtree || filter.substr(state) == "#";
  }

  // The filter level children must match at `state`: "#" for a whole subtree.
  static std::string_view wanted_level(std::string_view filter, size_t state) {
    return state == kWholeSubtree ? std::string_view("#") : level_at(filter, state).first;
  }
  static bool is_wildcard(std::string_view level) {
    return is_multi_level_wildcard(level) || is_single_level_wildcard(level);
  }

  // Calls add(index) for each entry of `table` that may match filter level
  // `state`; `hide_dollar`: '$' levels are hidden from wildcards
  // [MQTT-4.7.2-1].
  template <typename Add>
  void each_candidate(const Table& table, size_t offset, std::string_view filter, size_t state,
                      bool hide_dollar, Add&& add) const {
    if (state == kFilterEnd || table.size() == 0) return;
    const std::string_view level = wanted_level(filter, state);
    if (!is_wildcard(level)) {
      const size_t index = table.find(level, level_reader(offset));
      if (index != Table::kNone) add(index);
      return;
    }
    for (size_t index = 0; index < table.capacity(); ++index) {
      if (!table.occupied(index)) continue;
      if (hide_dollar && is_dollar_level(text_of(table, index, offset))) continue;
      add(index);
    }
  }

  // The topic of an entry whose text starts at `offset`, written into
  // `name`, which still holds its parent's topic.
  static void name_entry(std::string& name, size_t offset, std::string_view text) {
    name.resize(offset);
    if (offset > 0) name[offset - 1] = '/';
    name.append(text);
  }

  struct Frame {
    const Slot* slot;
    bool holds_value;
    size_t offset;        // where the entry's text starts in its topic
    size_t filter_state;  // before the entry's levels
  };

  // Depth first; frames are popped in the reverse order of pushing, so when a
  // frame is popped `name` still starts with its parent's topic.
  template <typename Visit>
  void walk(std::string_view filter, size_t start, bool hide_dollar, Visit& visit) const {
    std::vector<Frame> pending;
    std::string name;
    const auto push_from = [&](const Table& table, size_t offset, size_t state, bool at_root) {
      each_candidate(table, offset, filter, state, at_root && hide_dollar, [&](size_t index) {
        pending.push_back(Frame{&table.slot(index), table.holds_value(index), offset, state});
      });
    };
    push_from(root_, 0, start, true);
    while (!pending.empty()) {
      const Frame frame = pending.back();
      pending.pop_back();
      const std::string_view text = text_of(*frame.slot, frame.holds_value, frame.offset);
      const size_t state = consume(filter, frame.filter_state, text);
      if (state == kNoMatch) continue;
      if constexpr (kInline) {
        if (frame.holds_value) {
          const Value& value = frame.slot->value();
          if (covers(filter, state)) visit(key_of(value), value);
          continue;
        }
      }
      const Node& node = *frame.slot->node();
      name_entry(name, frame.offset, text);
      if (node.value && covers(filter, state))
        visit(std::string_view{name}, static_cast<const Value&>(*node.value));
      push_from(node.children, name.size() + 1, state, false);
    }
  }

  // An ordered walk: per node on the path, its children still to visit form a
  // min-heap by first level (unique among siblings). The cursor state is the
  // offset in the cursor of the level the children are compared with while
  // the node's topic is a prefix of the cursor, else kOffCursor.
  static constexpr size_t kOffCursor = std::string_view::npos;

  struct Candidate {
    const Slot* slot;
    bool holds_value;
    std::string_view text;
  };
  struct OrderedFrame {
    size_t offset;  // where the children's texts start
    size_t filter_state;
    size_t cursor_state;
    std::vector<Candidate> heap;
  };
  struct OrderedWalk {
    std::string_view filter;
    std::string_view cursor;
    std::vector<OrderedFrame> stack;
    std::string name;
  };

  static bool later(const Candidate& a, const Candidate& b) {
    return retained::first_level(a.text) > retained::first_level(b.text);
  }

  // The children of `table` that the filter lets through and the cursor has
  // not passed, judged by their first level.
  OrderedFrame ordered_frame(const Table& table, size_t offset, size_t filter_state, size_t cursor_state,
                             bool hide_dollar, const OrderedWalk& ordered) const {
    OrderedFrame frame{offset, filter_state, cursor_state, {}};
    const bool bounded = cursor_state != kOffCursor;
    const std::string_view lowest =
        bounded ? level_at(ordered.cursor, cursor_state).first : std::string_view{};
    each_candidate(table, offset, ordered.filter, filter_state, hide_dollar, [&](size_t index) {
      const std::string_view text = text_of(table, index, offset);
      if (bounded && retained::first_level(text) < lowest) return;
      frame.heap.push_back(Candidate{&table.slot(index), table.holds_value(index), text});
    });
    std::make_heap(frame.heap.begin(), frame.heap.end(), later);
    return frame;
  }

  // Where an entry stands against the cursor: wholly before it, on it (its
  // topic is the cursor or leads to it), or after it.
  struct CursorPosition {
    bool before = false;
    bool on_cursor = false;
    size_t child_state = kOffCursor;
  };
  static CursorPosition position_of(std::string_view cursor, size_t cursor_state, std::string_view text) {
    if (cursor_state == kOffCursor) return {};
    LevelCursor entry(text);
    LevelCursor rest(cursor.substr(cursor_state));
    while (entry.has_next() && rest.has_next()) {
      const std::string_view level = entry.next();
      const std::string_view wanted = rest.next();
      if (level != wanted) return CursorPosition{level < wanted, false, kOffCursor};
    }
    if (entry.has_next()) return {};  // below the cursor's topic: after it
    if (!rest.has_next()) return CursorPosition{false, true, kOffCursor};
    return CursorPosition{false, true, cursor_state + text.size() + 1};
  }

  // Visits the next child of the innermost frame; false when visit said stop.
  template <typename Visit>
  bool ordered_step(OrderedWalk& ordered, Visit& visit) const {
    OrderedFrame& top = ordered.stack.back();
    std::pop_heap(top.heap.begin(), top.heap.end(), later);
    const Candidate next = top.heap.back();
    top.heap.pop_back();
    const size_t state = consume(ordered.filter, top.filter_state, next.text);
    if (state == kNoMatch) return true;
    const CursorPosition position = position_of(ordered.cursor, top.cursor_state, next.text);
    if (position.before) return true;
    const bool visible = !position.on_cursor && covers(ordered.filter, state);
    if constexpr (kInline) {
      if (next.holds_value) {
        const Value& value = next.slot->value();
        return !visible || visit(key_of(value), value);
      }
    }
    const Node& node = *next.slot->node();
    name_entry(ordered.name, top.offset, next.text);
    if (visible && node.value &&
        !visit(std::string_view{ordered.name}, static_cast<const Value&>(*node.value))) {
      return false;
    }
    OrderedFrame child =
        ordered_frame(node.children, ordered.name.size() + 1, state, position.child_state, false, ordered);
    if (!child.heap.empty()) ordered.stack.push_back(std::move(child));
    return true;
  }

  Table root_;
  size_t size_ = 0;
  [[no_unique_address]] KeyOf key_of_;
};

}  // namespace stellwerk::topics

// The subscription trie: which subscribers want a PUBLISH to a given topic.
//
// One node per filter level. Literal levels live in a hash map keyed by the
// level text; the '+' and '#' children sit in their own slots, so matching a
// topic level costs one hash lookup plus two pointer checks, however many
// distinct filters the node has below it.
//
// match() walks the topic breadth-first. The frontier is the set of nodes
// whose filter prefix matches the topic levels read so far; each step keeps a
// node's literal child for the next level and its '+' child, and delivers its
// '#' child at once, because '#' matches whatever remains. Walking level by
// level rather than recursing keeps the stack flat for topics with thousands of
// levels, and the two frontier vectors are reused so a match allocates nothing
// once they have grown.
//
// Shared subscriptions ("$share/{group}/{filter}") hang off the node of
// {filter}, one SharedGroup per group name. Each matching group delivers to one
// member, round-robin in subscription order, preferring members the caller
// says are eligible (for example: connected, with room in their queue).
//
// Recent matches are remembered (Cache, below): a topic published again, while
// no subscription changed, replays the non-shared subscriptions the walk
// found instead of walking again. Devices publish to the same few topics over
// and over, and a walk costs a hash lookup per level.
//
// Not thread-safe; match() mutates (round-robin cursors, scratch vectors, the
// cache), so it needs the same exclusive access as subscribe().
#pragma once

#include <algorithm>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "topics/level_map.h"
#include "topics/levels.h"
#include "topics/subscriber_list.h"

namespace stellwerk::topics {

template <typename Value>
class SubscriptionTree {
 public:
  SubscriptionTree() = default;
  SubscriptionTree(const SubscriptionTree&) = delete;
  SubscriptionTree& operator=(const SubscriptionTree&) = delete;
  // A moved-from tree may only be destroyed or assigned to.
  SubscriptionTree(SubscriptionTree&&) noexcept = default;
  SubscriptionTree& operator=(SubscriptionTree&&) noexcept = default;

  // Adds or replaces `subscriber`'s subscription to `filter`, a topic filter
  // the caller has validated, possibly "$share/{group}/{filter}". Returns true
  // when new, false when it replaced an existing one.
  [[nodiscard]] bool subscribe(std::string_view filter, SubscriberId subscriber, Value value) {
    const std::optional<SharedFilter> shared = split_shared_filter(filter);
    Node& node = node_for(shared ? shared->filter : filter);
    SubscriberList<Value>& list =
        shared ? group_for(node.subscriptions, shared->group).members : node.subscriptions.direct;
    const bool added = list.upsert(subscriber, std::move(value));
    if (added) ++size_;
    cache_.forget_all();
    return added;
  }

  // Returns false when there was no such subscription. Nodes left without
  // subscriptions or children are removed.
  [[nodiscard]] bool unsubscribe(std::string_view filter, SubscriberId subscriber) {
    const std::optional<SharedFilter> shared = split_shared_filter(filter);
    Node* node = find_node(shared ? shared->filter : filter);
    if (node == nullptr) return false;
    const bool removed = shared ? leave_group(node->subscriptions, shared->group, subscriber)
                                : node->subscriptions.direct.erase(subscriber, RemovalOrder::any).has_value();
    if (!removed) return false;
    --size_;
    cache_.forget_all();
    prune(node);
    return true;
  }

  // Calls visit(SubscriberId, const Value&, std::string_view group) for each
  // matching non-shared subscription (group empty; once per matching filter,
  // the caller merges; in SubscriberId order when the topic's matches come
  // from the cache) and for one member of each matching shared group,
  // chosen round-robin among those for which eligible(SubscriberId) is true;
  // when none is, the next member in turn is chosen anyway. `visit` must not
  // modify this tree.
  template <typename Visit, typename Eligible>
  void match(std::string_view topic, Visit&& visit, Eligible&& eligible) {
    typename Cache::Slot& slot = cache_.slot_for(topic);
    if (cache_.holds(slot, topic)) {
      for (const Match& found : slot.matches) visit(found.id, *found.value, std::string_view{});
      return;
    }
    walk_and_remember(slot, topic, visit, eligible);
  }

  // match() with every subscriber eligible.
  template <typename Visit>
  void match(std::string_view topic, Visit&& visit) {
    match(topic, std::forward<Visit>(visit), [](SubscriberId) { return true; });
  }

  // Number of (filter, subscriber) subscriptions, shared ones included.
  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }

  // Nodes below the root; shows that unsubscribe prunes.
  size_t node_count() const {
    size_t count = 0;
    std::vector<const Node*> pending{root_.get()};
    while (!pending.empty()) {
      const Node* node = pending.back();
      pending.pop_back();
      for (const auto& [level, child] : node->children) pending.push_back(child.get());
      if (node->single_level) pending.push_back(node->single_level.get());
      if (node->multi_level) pending.push_back(node->multi_level.get());
      ++count;
    }
    return count - 1;
  }

 private:
  // The value stays where the tree keeps it: any change that could move it
  // also empties the cache.
  struct Match {
    SubscriberId id;
    const Value* value;
  };

  // A direct-mapped table of the last topic seen per slot and its non-shared
  // matches. Bounded (kSlots topics, each slot keeping the capacity of its
  // strings), and emptied at once by any subscription change: each slot
  // remembers the generation it was filled in.
  struct Cache {
    static constexpr size_t kSlots = 1024;
    struct Slot {
      uint64_t generation = 0;  // 0: empty
      std::string topic;
      std::vector<Match> matches;
    };

    Slot& slot_for(std::string_view topic) {
      if (slots.empty()) slots.resize(kSlots);
      return slots[std::hash<std::string_view>{}(topic) % kSlots];
    }
    bool holds(const Slot& slot, std::string_view topic) const {
      return slot.generation == generation && slot.topic == topic;
    }
    void keep(Slot& slot, std::string_view topic) {
      slot.topic.assign(topic);
      slot.generation = generation;
    }
    static void drop(Slot& slot) { slot.generation = 0; }
    void forget_all() { ++generation; }

    std::vector<Slot> slots;  // allocated by the first match
    uint64_t generation = 1;
  };

  // match() for a topic the cache does not hold. Out of line, so that the
  // caller's loop over cached matches, the path of nearly every message,
  // stays small.
  template <typename Visit, typename Eligible>
  [[gnu::noinline]] void walk_and_remember(typename Cache::Slot& slot, std::string_view topic, Visit& visit,
                                           Eligible& eligible) {
    // Shared groups choose a member per message: a topic that reaches one is
    // walked every time.
    bool reached_group = false;
    std::vector<Match>& recorded = slot.matches;
    recorded.clear();
    auto record = [&](SubscriberId id, const Value& value, std::string_view group) {
      if (group.empty()) {
        recorded.push_back(Match{id, &value});
      } else {
        reached_group = true;
      }
      visit(id, value, group);
    };
    walk(topic, record, eligible);
    if (reached_group) {
      cache_.drop(slot);
      return;
    }
    // Kept in subscriber order, so that the topic's later matches come in the
    // order the caller merges by and it need not sort them: with two workers,
    // subscriptions arrive in another order than the ids were given.
    std::sort(recorded.begin(), recorded.end(), [](const Match& a, const Match& b) { return a.id < b.id; });
    cache_.keep(slot, topic);
  }

  template <typename Visit, typename Eligible>
  void walk(std::string_view topic, Visit& visit, Eligible& eligible) {
    frontier_.clear();
    frontier_.push_back(root_.get());
    LevelCursor levels(topic);
    bool first_level = true;
    while (levels.has_next() && !frontier_.empty()) {
      const std::string_view level = levels.next();
      const bool wildcards_match = !(first_level && is_dollar_level(level));
      advance_frontier(level, wildcards_match, visit, eligible);
      first_level = false;
    }
    for (Node* node : frontier_) {
      deliver(node->subscriptions, visit, eligible);
      // "a/#" also matches "a" itself [MQTT-4.7.1-2].
      if (node->multi_level) deliver(node->multi_level->subscriptions, visit, eligible);
    }
  }

  struct SharedGroup {
    std::string name;
    SubscriberList<Value> members;
    size_t next = 0;  // the member whose turn it is
  };

  struct Subscriptions {
    SubscriberList<Value> direct;
    std::vector<SharedGroup> groups;
    bool empty() const { return direct.empty() && groups.empty(); }
  };

  struct Node {
    Node(std::string_view level_text, Node* parent_node) : level(level_text), parent(parent_node) {}
    bool is_unused() const {
      return subscriptions.empty() && children.empty() && !single_level && !multi_level;
    }

    std::string level;
    Node* parent;
    LevelMap<Node> children;             // literal levels
    std::unique_ptr<Node> single_level;  // the '+' child
    std::unique_ptr<Node> multi_level;   // the '#' child: subscriptions, never children
    Subscriptions subscriptions;
  };

  template <typename Visit, typename Eligible>
  void advance_frontier(std::string_view level, bool wildcards_match, Visit& visit, Eligible& eligible) {
    next_frontier_.clear();
    for (Node* node : frontier_) {
      if (wildcards_match) {
        if (node->multi_level) deliver(node->multi_level->subscriptions, visit, eligible);
        if (node->single_level) next_frontier_.push_back(node->single_level.get());
      }
      if (Node* child = find_child(node->children, level)) next_frontier_.push_back(child);
    }
    frontier_.swap(next_frontier_);
  }

  template <typename Visit, typename Eligible>
  static void deliver(Subscriptions& subscriptions, Visit& visit, Eligible& eligible) {
    for (const auto& entry : subscriptions.direct) {
      visit(entry.id, static_cast<const Value&>(entry.value), std::string_view{});
    }
    for (SharedGroup& group : subscriptions.groups) {
      const auto& member = group.members[take_turn(group, eligible)];
      visit(member.id, static_cast<const Value&>(member.value), std::string_view{group.name});
    }
  }

  // Picks the first eligible member from the cursor on, or the member at the
  // cursor when none is eligible, and moves the cursor past it.
  template <typename Eligible>
  static size_t take_turn(SharedGroup& group, Eligible& eligible) {
    const size_t count = group.members.size();
    const size_t start = group.next % count;
    size_t chosen = start;
    for (size_t step = 0; step < count; ++step) {
      const size_t candidate = (start + step) % count;
      if (eligible(group.members[candidate].id)) {
        chosen = candidate;
        break;
      }
    }
    group.next = (chosen + 1) % count;
    return chosen;
  }

  static SharedGroup& group_for(Subscriptions& subscriptions, std::string_view name) {
    if (SharedGroup* group = find_group(subscriptions, name)) return *group;
    subscriptions.groups.push_back(SharedGroup{std::string(name), {}, 0});
    return subscriptions.groups.back();
  }

  static SharedGroup* find_group(Subscriptions& subscriptions, std::string_view name) {
    for (SharedGroup& group : subscriptions.groups) {
      if (group.name == name) return &group;
    }
    return nullptr;
  }

  // Removes `subscriber` from the group, keeping the cursor on the member
  // whose turn it was.
  static bool leave_group(Subscriptions& subscriptions, std::string_view name, SubscriberId subscriber) {
    SharedGroup* group = find_group(subscriptions, name);
    if (group == nullptr) return false;
    const std::optional<size_t> at = group->members.erase(subscriber, RemovalOrder::keep);
    if (!at) return false;
    if (*at < group->next) --group->next;
    if (group->next >= group->members.size()) group->next = 0;
    if (group->members.empty()) {
      auto it = subscriptions.groups.begin() + (group - subscriptions.groups.data());
      subscriptions.groups.erase(it);
    }
    return true;
  }

  Node& node_for(std::string_view filter) {
    Node* node = root_.get();
    LevelCursor levels(filter);
    while (levels.has_next()) {
      const std::string_view level = levels.next();
      if (is_single_level_wildcard(level)) {
        node = &wildcard_child(node->single_level, node, level);
      } else if (is_multi_level_wildcard(level)) {
        node = &wildcard_child(node->multi_level, node, level);
      } else {
        node = &find_or_add_child(node->children, node, level);
      }
    }
    return *node;
  }

  static Node& wildcard_child(std::unique_ptr<Node>& slot, Node* parent, std::string_view level) {
    if (!slot) slot = std::make_unique<Node>(level, parent);
    return *slot;
  }

  Node* find_node(std::string_view filter) {
    Node* node = root_.get();
    LevelCursor levels(filter);
    while (node != nullptr && levels.has_next()) {
      const std::string_view level = levels.next();
      if (is_single_level_wildcard(level)) {
        node = node->single_level.get();
      } else if (is_multi_level_wildcard(level)) {
        node = node->multi_level.get();
      } else {
        node = find_child(node->children, level);
      }
    }
    return node;
  }

  // Removes `node` and then each ancestor that is left unused.
  void prune(Node* node) {
    while (node != root_.get() && node->is_unused()) {
      Node* parent = node->parent;
      detach(*parent, *node);
      node = parent;
    }
  }

  static void detach(Node& parent, Node& child) {
    if (parent.single_level.get() == &child) {
      parent.single_level.reset();
    } else if (parent.multi_level.get() == &child) {
      parent.multi_level.reset();
    } else {
      remove_child(parent.children, std::string_view{child.level});
    }
  }

  // On the heap so that children's parent pointers survive a move of the tree.
  std::unique_ptr<Node> root_ = std::make_unique<Node>(std::string_view{}, nullptr);
  size_t size_ = 0;
  std::vector<Node*> frontier_;
  std::vector<Node*> next_frontier_;
  Cache cache_;
};

}  // namespace stellwerk::topics

// Both trees against a naive matcher on thousands of random filters and
// topics over a small alphabet of levels, '$' levels and empty levels among
// them, so that most rules meet each other. The seed is fixed: a failure
// reproduces.
#include <gtest/gtest.h>

#include <cstdint>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "topics/retained_tree.h"
#include "topics/subscription_tree.h"

namespace stellwerk::topics {
namespace {

// Takes the first level off `rest`; `rest` becomes nullopt after the last one.
std::string_view take_level(std::optional<std::string_view>& rest) {
  const std::string_view text = *rest;
  const size_t slash = text.find('/');
  if (slash == std::string_view::npos) {
    rest.reset();
    return text;
  }
  rest = text.substr(slash + 1);
  return text.substr(0, slash);
}

// MQTT 4.7 written as directly as possible, independent of the trees.
bool matches(std::string_view filter, std::string_view topic) {
  // A valid filter starting with '+' or '#' has that wildcard as its first level.
  if (topic.starts_with('$') && (filter.starts_with('+') || filter.starts_with('#'))) return false;
  std::optional<std::string_view> filter_rest = filter;
  std::optional<std::string_view> topic_rest = topic;
  while (filter_rest) {
    const std::string_view wanted = take_level(filter_rest);
    if (wanted == "#") return true;  // covers the remaining topic levels, possibly none
    if (!topic_rest) return false;
    const std::string_view level = take_level(topic_rest);
    if (wanted != "+" && wanted != level) return false;
  }
  return !topic_rest;
}

TEST(ReferenceMatcher, AgreesWithTheSpecExamples) {
  EXPECT_TRUE(matches("sport/tennis/player1/#", "sport/tennis/player1"));
  EXPECT_TRUE(matches("sport/tennis/player1/#", "sport/tennis/player1/score/wimbledon"));
  EXPECT_TRUE(matches("sport/#", "sport"));
  EXPECT_TRUE(matches("sport/+", "sport/"));
  EXPECT_FALSE(matches("sport/+", "sport"));
  EXPECT_TRUE(matches("+/+", "/finance"));
  EXPECT_TRUE(matches("/+", "/finance"));
  EXPECT_FALSE(matches("+", "/finance"));
  EXPECT_FALSE(matches("#", "$SYS/x"));
  EXPECT_TRUE(matches("$SYS/#", "$SYS/x"));
}

class RandomTopics {
 public:
  explicit RandomTopics(uint64_t seed) : random_(seed) {}

  std::string topic() { return join(levels()); }

  std::string filter() {
    std::vector<std::string> parts = levels();
    for (std::string& part : parts) {
      if (chance(4)) part = "+";
    }
    if (chance(3)) parts.push_back("#");
    return join(parts);
  }

  bool chance(int one_in) { return std::uniform_int_distribution<int>(0, one_in - 1)(random_) == 0; }
  uint64_t below(uint64_t bound) { return std::uniform_int_distribution<uint64_t>(0, bound - 1)(random_); }

 private:
  std::vector<std::string> levels() {
    static const char* const kAlphabet[] = {"a", "b", "", "$x", "$", "ab"};
    std::vector<std::string> parts(1 + below(4));
    for (std::string& part : parts) part = kAlphabet[below(std::size(kAlphabet))];
    return parts;
  }

  static std::string join(const std::vector<std::string>& parts) {
    std::string text;
    for (size_t i = 0; i < parts.size(); ++i) {
      if (i > 0) text += '/';
      text += parts[i];
    }
    return text;
  }

  std::mt19937_64 random_;
};

// The model: filter (shared ones whole, "$share/g/...") -> subscriber -> value.
using Model = std::map<std::string, std::map<SubscriberId, int>>;

struct Expected {
  std::multiset<std::pair<SubscriberId, std::string>> direct;  // (subscriber, filter)
  std::set<std::string> shared;                                // whole shared filters
};

Expected expected_for(const Model& model, std::string_view topic) {
  Expected expected;
  for (const auto& [filter, members] : model) {
    const std::optional<SharedFilter> shared = split_shared_filter(filter);
    if (!matches(shared ? shared->filter : std::string_view{filter}, topic)) continue;
    if (shared) {
      expected.shared.insert(filter);
      continue;
    }
    for (const auto& [subscriber, value] : members) expected.direct.emplace(subscriber, filter);
  }
  return expected;
}

// Values are indexes into `filters`, so a visit says which filter matched.
void check_topic(SubscriptionTree<int>& tree, const Model& model, const std::vector<std::string>& filters,
                 const std::string& topic) {
  const Expected expected = expected_for(model, topic);
  Expected got;
  tree.match(topic, [&](SubscriberId id, const int& value, std::string_view group) {
    const std::string& filter = filters[value];
    if (group.empty()) {
      got.direct.emplace(id, filter);
      return;
    }
    EXPECT_EQ(split_shared_filter(filter)->group, group) << filter;
    EXPECT_TRUE(got.shared.insert(filter).second) << "group delivered twice: " << filter << " on " << topic;
    auto members = model.find(filter);
    EXPECT_TRUE(members != model.end() && members->second.contains(id)) << filter;
  });
  EXPECT_EQ(got.direct, expected.direct) << "topic " << topic;
  EXPECT_EQ(got.shared, expected.shared) << "topic " << topic;
}

TEST(RandomizedSubscriptionTree, MatchesTheReference) {
  RandomTopics random(20240611);
  SubscriptionTree<int> tree;
  Model model;
  std::vector<std::string> filters;
  size_t model_size = 0;
  for (int i = 0; i < 4000; ++i) {
    std::string filter = random.filter();
    if (random.chance(5)) filter = "$share/" + std::string(random.chance(2) ? "g" : "h") + "/" + filter;
    const SubscriberId subscriber = random.below(60);
    filters.push_back(filter);
    const bool is_new = model[filter].insert_or_assign(subscriber, i).second;
    model_size += is_new ? 1 : 0;
    ASSERT_EQ(tree.subscribe(filter, subscriber, i), is_new) << filter;
  }
  for (int i = 0; i < 1500; ++i) {
    const std::string& filter = filters[random.below(filters.size())];
    const SubscriberId subscriber = random.below(60);
    auto members = model.find(filter);
    const bool present = members != model.end() && members->second.erase(subscriber) == 1;
    if (present && members->second.empty()) model.erase(members);
    model_size -= present ? 1 : 0;
    ASSERT_EQ(tree.unsubscribe(filter, subscriber), present) << filter;
  }
  ASSERT_EQ(tree.size(), model_size);

  for (int i = 0; i < 1500; ++i) check_topic(tree, model, filters, random.topic());

  for (const auto& [filter, members] : model) {
    for (const auto& [subscriber, value] : members) ASSERT_TRUE(tree.unsubscribe(filter, subscriber));
  }
  EXPECT_EQ(tree.size(), 0u);
  EXPECT_EQ(tree.node_count(), 0u);
}

TEST(RandomizedRetainedTree, MatchesTheReference) {
  RandomTopics random(77);
  RetainedTree<int> tree;
  std::map<std::string, int> model;
  for (int i = 0; i < 3000; ++i) {
    const std::string topic = random.topic();
    if (random.chance(4)) {
      ASSERT_EQ(tree.erase(topic), model.erase(topic) == 1) << topic;
    } else {
      tree.set(topic, i);
      model[topic] = i;
    }
  }
  ASSERT_EQ(tree.size(), model.size());
  for (const auto& [topic, value] : model) {
    const int* found = tree.find(topic);
    ASSERT_NE(found, nullptr) << topic;
    EXPECT_EQ(*found, value);
  }

  for (int i = 0; i < 1500; ++i) {
    const std::string filter = random.filter();
    std::map<std::string, int> expected;
    for (const auto& [topic, value] : model) {
      if (matches(filter, topic)) expected.emplace(topic, value);
    }
    std::map<std::string, int> got;
    tree.match(filter, [&](std::string_view topic, const int& value) {
      EXPECT_TRUE(got.emplace(std::string(topic), value).second) << "twice: " << topic;
    });
    EXPECT_EQ(got, expected) << "filter " << filter;
  }

  std::map<std::string, int> all;
  tree.for_each([&](std::string_view topic, const int& value) { all.emplace(std::string(topic), value); });
  EXPECT_EQ(all, model);

  for (const auto& [topic, value] : model) ASSERT_TRUE(tree.erase(topic));
  EXPECT_EQ(tree.node_count(), 0u);
}

}  // namespace
}  // namespace stellwerk::topics

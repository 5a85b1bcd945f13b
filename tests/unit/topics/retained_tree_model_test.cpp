// RetainedTree against a reference model: a std::map of topics, a naive
// filter matcher and a level-by-level sort, under thousands of random sets,
// erases, lookups, matches and pages. Topics are short chains over a small
// alphabet with empty levels, '$' levels and "a-b" (which sorts after "a/..."),
// so that chains split and merge often. Also checks that node_count() equals
// the number of distinct topic prefixes, which holds only if erase prunes and
// merges. The seed is fixed: a failure reproduces.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "topics/retained_tree.h"

namespace stellwerk::topics {
namespace {

std::vector<std::string_view> levels_of(std::string_view text) {
  std::vector<std::string_view> levels;
  size_t start = 0;
  for (;;) {
    const size_t slash = text.find('/', start);
    levels.push_back(text.substr(start, slash == std::string_view::npos ? slash : slash - start));
    if (slash == std::string_view::npos) return levels;
    start = slash + 1;
  }
}

// [MQTT-4.7.1-2], [MQTT-4.7.1-3], [MQTT-4.7.2-1], level by level.
bool model_matches(std::string_view filter, std::string_view topic, bool dollar_topics) {
  const bool wildcard_first = filter.starts_with('+') || filter.starts_with('#');
  if (!dollar_topics && topic.starts_with('$') && wildcard_first) return false;
  const std::vector<std::string_view> wanted = levels_of(filter);
  const std::vector<std::string_view> levels = levels_of(topic);
  for (size_t i = 0; i < wanted.size(); ++i) {
    if (wanted[i] == "#") return true;
    if (i == levels.size()) return false;
    if (wanted[i] != "+" && wanted[i] != levels[i]) return false;
  }
  return wanted.size() == levels.size();
}

bool topic_order(const std::string& a, const std::string& b) { return levels_of(a) < levels_of(b); }

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
  bool chance(int one_in) { return below(one_in) == 0; }

  bool wide = false;
  size_t below(size_t bound) { return std::uniform_int_distribution<size_t>(0, bound - 1)(random_); }

 private:
  // Wide: up to 47 different levels in a place, so that tables hash, grow
  // and shrink; else 7, so that chains of levels split and merge.
  std::vector<std::string> levels() {
    static const char* const kAlphabet[] = {"a", "b", "", "$x", "ab", "a-b", "c"};
    std::vector<std::string> parts(1 + below(wide ? 3 : chance(5) ? 8 : 4));
    for (std::string& part : parts) {
      const size_t pick = below(std::size(kAlphabet) + (wide ? 40 : 0));
      part = pick < std::size(kAlphabet) ? kAlphabet[pick] : std::to_string(pick);
    }
    return parts;
  }
  static std::string join(const std::vector<std::string>& parts) {
    std::string text;
    for (size_t i = 0; i < parts.size(); ++i) text += (i > 0 ? "/" : "") + parts[i];
    return text;
  }

  std::mt19937_64 random_;
};

struct Item {
  std::string topic;
  int number;
};

struct PlainValues {
  using Tree = RetainedTree<int>;
  static int make(const std::string&, int number, bool) { return number; }
  static int number(const int& value) { return value; }
};

// One value in ten names a topic other than its own: it must still work.
struct KeyedValues {
  using Tree = RetainedTree<std::shared_ptr<const Item>, TopicOfPointee>;
  static std::shared_ptr<const Item> make(const std::string& topic, int number, bool misnamed) {
    return std::make_shared<const Item>(Item{misnamed ? "elsewhere/" + topic : topic, number});
  }
  static int number(const std::shared_ptr<const Item>& value) { return value->number; }
};

using Model = std::map<std::string, int>;

size_t prefix_count(const Model& model) {
  std::set<std::string> prefixes;
  for (const auto& [topic, number] : model) {
    for (size_t slash = topic.find('/'); slash != std::string::npos; slash = topic.find('/', slash + 1)) {
      prefixes.insert(topic.substr(0, slash));
    }
    prefixes.insert(topic);
  }
  return prefixes.size();
}

template <typename Values>
class ModelCheck : public testing::Test {
 protected:
  using Tree = typename Values::Tree;

  void random_changes(int count) {
    for (int i = 0; i < count; ++i) {
      const std::string topic = random.topic();
      if (random.chance(3)) {
        ASSERT_EQ(tree.erase(topic), model.erase(topic) == 1) << topic;
      } else {
        tree.set(topic, Values::make(topic, i, random.chance(10)));
        model[topic] = i;
      }
    }
  }

  void check_contents() {
    ASSERT_EQ(tree.size(), model.size());
    ASSERT_EQ(tree.node_count(), prefix_count(model));
    for (const auto& [topic, number] : model) {
      const auto* found = tree.find(topic);
      ASSERT_NE(found, nullptr) << topic;
      ASSERT_EQ(Values::number(*found), number) << topic;
    }
    for (int i = 0; i < 200; ++i) {
      const std::string topic = random.topic();
      const auto* found = tree.find(topic);
      ASSERT_EQ(found != nullptr, model.count(topic) == 1) << topic;
    }
    Model all;
    tree.for_each(
        [&](std::string_view topic, const auto& value) { all.emplace(topic, Values::number(value)); });
    ASSERT_EQ(all, model);
  }

  void check_match(const std::string& filter) {
    Model expected;
    for (const auto& [topic, number] : model) {
      if (model_matches(filter, topic, false)) expected.emplace(topic, number);
    }
    Model got;
    tree.match(filter, [&](std::string_view topic, const auto& value) {
      EXPECT_TRUE(got.emplace(topic, Values::number(value)).second) << "twice: " << topic;
    });
    ASSERT_EQ(got, expected) << "filter " << filter;
  }

  void check_page(const std::string& filter, const std::optional<std::string>& after, size_t limit,
                  bool dollar_topics) {
    std::vector<std::string> expected;
    for (const auto& [topic, number] : model) {
      if (!model_matches(filter, topic, dollar_topics)) continue;
      if (after && !topic_order(*after, topic)) continue;
      expected.push_back(topic);
    }
    std::sort(expected.begin(), expected.end(), topic_order);
    if (expected.size() > limit) expected.resize(limit);
    std::vector<std::string> got;
    std::optional<std::string_view> cursor;
    if (after) cursor = *after;
    tree.match_after(filter, cursor, dollar_topics, [&](std::string_view topic, const auto&) {
      got.emplace_back(topic);
      return got.size() < limit;
    });
    ASSERT_EQ(got, expected) << "filter " << filter << " after " << after.value_or("(none)");
  }

  void check_queries(int count) {
    for (int i = 0; i < count; ++i) {
      const std::string filter = random.filter();
      check_match(filter);
      std::optional<std::string> after;
      if (random.chance(4) && !model.empty()) {
        after = std::next(model.begin(), static_cast<long>(random.below(model.size())))->first;
      } else if (!random.chance(4)) {
        after = random.topic();
      }
      check_page(random.chance(3) ? "#" : filter, after, 1 + random.below(12), random.chance(2));
    }
  }

  RandomTopics random{1234};
  Model model;
  Tree tree;
};

using ValueKinds = testing::Types<PlainValues, KeyedValues>;
TYPED_TEST_SUITE(ModelCheck, ValueKinds);

TYPED_TEST(ModelCheck, AgreesThroughGrowthAndShrinking) {
  for (int round = 0; round < 6; ++round) {
    this->random_changes(round < 3 ? 1500 : 400);
    ASSERT_NO_FATAL_FAILURE(this->check_contents());
    ASSERT_NO_FATAL_FAILURE(this->check_queries(300));
  }
  // Emptied in random order: every split is merged back.
  std::vector<std::string> topics;
  for (const auto& [topic, number] : this->model) topics.push_back(topic);
  std::shuffle(topics.begin(), topics.end(), std::mt19937_64(99));
  for (size_t i = 0; i < topics.size(); ++i) {
    ASSERT_TRUE(this->tree.erase(topics[i]));
    this->model.erase(topics[i]);
    if (i % 97 == 0) {
      ASSERT_NO_FATAL_FAILURE(this->check_contents());
    }
  }
  EXPECT_EQ(this->tree.node_count(), 0u);
  EXPECT_TRUE(this->tree.empty());
}

TYPED_TEST(ModelCheck, AgreesWithWideLevels) {
  this->random.wide = true;
  for (int round = 0; round < 4; ++round) {
    this->random_changes(round < 2 ? 3000 : 1500);
    ASSERT_NO_FATAL_FAILURE(this->check_contents());
    ASSERT_NO_FATAL_FAILURE(this->check_queries(200));
  }
  for (const auto& [topic, number] : this->model) ASSERT_TRUE(this->tree.erase(topic));
  EXPECT_EQ(this->tree.node_count(), 0u);
}

TEST(ModelReference, AgreesWithTheSpecExamples) {
  EXPECT_TRUE(model_matches("sport/#", "sport", false));
  EXPECT_TRUE(model_matches("+/+", "/finance", false));
  EXPECT_FALSE(model_matches("+", "/finance", false));
  EXPECT_FALSE(model_matches("#", "$SYS/x", false));
  EXPECT_TRUE(model_matches("#", "$SYS/x", true));
  EXPECT_TRUE(topic_order("a", "a/b"));
  EXPECT_TRUE(topic_order("a/b", "a-b"));
  EXPECT_TRUE(topic_order("", "/"));
}

}  // namespace
}  // namespace stellwerk::topics

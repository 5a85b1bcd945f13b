// Micro-benchmarks of the subscription trie with 100,000 subscriptions:
//   90,000 literal filters   site/{s}/device/{d}/state      (one per device)
//    9,000 '+' filters       site/{s}/device/+/alarm        (90 per site)
//    1,000 '#' filters       site/{s}/#                     (10 per site)
// over 100 sites. A state topic matches 1 literal and 10 '#' filters, an
// alarm topic 90 '+' and 10 '#' filters, a topic outside site/ nothing. Each
// iteration matches the next of 16,384 different topics, so the walk is not
// served from one hot path, nor from the tree's cache of recent matches
// (1,024 slots), which only the "Repeated" case, 64 topics over and over,
// measures. Timings only; nothing is checked.
//
// Below them, the retained tree (memory per topic, lookups, matches, pages),
// with and without a KeyOf; see the comment above BM_RetainedMemory.
#include <benchmark/benchmark.h>
#include <fmt/format.h>
#include <malloc.h>

#include <cstdlib>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "topics/retained_tree.h"
#include "topics/subscription_tree.h"

namespace {

using Tree = stellwerk::topics::SubscriptionTree<uint32_t>;

constexpr uint32_t kSubscriptions = 100'000;
constexpr uint32_t kSites = 100;
constexpr uint32_t kDevices = 90'000;
constexpr uint32_t kAlarmFilters = 9'000;

std::string filter_for(uint32_t i) {
  if (i < kDevices) return fmt::format("site/{}/device/{}/state", i % kSites, i);
  if (i < kDevices + kAlarmFilters) return fmt::format("site/{}/device/+/alarm", i % kSites);
  return fmt::format("site/{}/#", i % kSites);
}

void fill(Tree& tree) {
  for (uint32_t i = 0; i < kSubscriptions; ++i) (void)tree.subscribe(filter_for(i), i, i);
}

Tree& shared_tree() {
  static Tree* tree = [] {
    auto* built = new Tree();
    fill(*built);
    return built;
  }();
  return *tree;
}

enum class TopicKind { state, alarm, miss };

constexpr size_t kWalkedTopics = 16'384;  // a power of two, for the index mask
constexpr size_t kRepeatedTopics = 64;

std::vector<std::string> topics_of(TopicKind kind, size_t count) {
  std::vector<std::string> topics;
  for (uint32_t n = 0; n < count; ++n) {
    const uint32_t device = (n * 7919) % kDevices;  // scattered over the devices
    const uint32_t site = device % kSites;
    if (kind == TopicKind::state) topics.push_back(fmt::format("site/{}/device/{}/state", site, device));
    if (kind == TopicKind::alarm) topics.push_back(fmt::format("site/{}/device/{}/alarm", site, device));
    if (kind == TopicKind::miss) topics.push_back(fmt::format("plant/{}/device/{}/state", site, device));
  }
  return topics;
}

void match_loop(benchmark::State& state, TopicKind kind, size_t count = kWalkedTopics) {
  Tree& tree = shared_tree();
  const std::vector<std::string> topics = topics_of(kind, count);
  size_t next = 0;
  uint64_t matched = 0;
  for (auto _ : state) {
    tree.match(topics[next++ & (count - 1)],
               [&](stellwerk::topics::SubscriberId, const uint32_t&, std::string_view) { ++matched; });
  }
  benchmark::DoNotOptimize(matched);
  state.SetItemsProcessed(state.iterations());
  state.counters["matches_per_topic"] =
      benchmark::Counter(static_cast<double>(matched) / static_cast<double>(state.iterations()));
}

void BM_Match100kState(benchmark::State& state) { match_loop(state, TopicKind::state); }
BENCHMARK(BM_Match100kState);

void BM_Match100kAlarm(benchmark::State& state) { match_loop(state, TopicKind::alarm); }
BENCHMARK(BM_Match100kAlarm);

void BM_Match100kMiss(benchmark::State& state) { match_loop(state, TopicKind::miss); }
BENCHMARK(BM_Match100kMiss);

void BM_Match100kStateRepeated(benchmark::State& state) {
  match_loop(state, TopicKind::state, kRepeatedTopics);
}
BENCHMARK(BM_Match100kStateRepeated);

// Subscribing and unsubscribing one more client while 100,000 are present.
void BM_SubscribeUnsubscribe100k(benchmark::State& state) {
  Tree& tree = shared_tree();
  uint32_t next = 0;
  for (auto _ : state) {
    const std::string filter = fmt::format("site/{}/device/{}/state", next % kSites, next % kDevices);
    const stellwerk::topics::SubscriberId id = kSubscriptions + 1 + (next++ & 1023);
    benchmark::DoNotOptimize(tree.subscribe(filter, id, 0));
    benchmark::DoNotOptimize(tree.unsubscribe(filter, id));
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_SubscribeUnsubscribe100k);

// Building the whole tree; items are subscriptions.
void BM_Build100k(benchmark::State& state) {
  for (auto _ : state) {
    Tree tree;
    fill(tree);
    benchmark::DoNotOptimize(tree.size());
  }
  state.SetItemsProcessed(state.iterations() * kSubscriptions);
}
BENCHMARK(BM_Build100k)->Unit(benchmark::kMillisecond);

// ---------------------------------------------------------------------------
// The retained tree, holding one shared message per topic as the broker does;
// the messages are made first, so only what the tree adds is counted. Three
// layouts of 1,000,000 topics:
//   fleet  fleet/site-{0000..0999}/device-{NNNNNNN}/state   (1,000 x 1,000)
//   flat   t/{NNNNNNN}                                       (one wide level)
//   deep   a/b/c/d/e/f/{NNNNNNN}                             (a long chain)
// BM_RetainedMemory reports the heap the tree adds per topic (mallinfo2) and
// times the build; the other retained benchmarks share one fleet tree.

struct RetainedMessage {
  std::string topic;
  std::string payload;
};
using RetainedPtr = std::shared_ptr<const RetainedMessage>;
using PlainRetainedTree = stellwerk::topics::RetainedTree<RetainedPtr>;
// The broker's choice: leaves held inline, their text read from the message.
using KeyedRetainedTree = stellwerk::topics::RetainedTree<RetainedPtr, stellwerk::topics::TopicOfPointee>;

// STELLWERK_MICRO_RETAINED_TOPICS makes the trees smaller: ctest (and so CI,
// under the sanitizers too) only checks that these benchmarks still run.
uint32_t retained_topics_wanted() {
  const char* text = std::getenv("STELLWERK_MICRO_RETAINED_TOPICS");
  const unsigned long wanted = text ? std::strtoul(text, nullptr, 10) : 0;
  return wanted > 0 ? static_cast<uint32_t>(wanted) : 1'000'000;
}
const uint32_t kRetainedTopics = retained_topics_wanted();
constexpr uint32_t kFleetSites = 1'000;

enum class Layout { fleet, flat, deep };

std::string retained_topic(Layout layout, uint32_t i) {
  if (layout == Layout::fleet) return fmt::format("fleet/site-{:04}/device-{:07}/state", i % kFleetSites, i);
  if (layout == Layout::flat) return fmt::format("t/{:07}", i);
  return fmt::format("a/b/c/d/e/f/{:07}", i);
}

RetainedPtr retained_message(std::string topic) {
  return std::make_shared<const RetainedMessage>(RetainedMessage{std::move(topic), std::string(32, 'x')});
}

std::vector<RetainedPtr> retained_messages(Layout layout) {
  std::vector<RetainedPtr> messages;
  messages.reserve(kRetainedTopics);
  for (uint32_t i = 0; i < kRetainedTopics; ++i)
    messages.push_back(retained_message(retained_topic(layout, i)));
  return messages;
}

// Large blocks (a table of a million children) come from mmap, which
// uordblks does not count.
size_t heap_in_use() {
  malloc_trim(0);
  const struct mallinfo2 info = mallinfo2();
  return info.uordblks + info.hblkhd;
}

template <typename Tree>
void retained_memory(benchmark::State& state, Layout layout) {
  const std::vector<RetainedPtr> messages = retained_messages(layout);
  for (auto _ : state) {
    state.PauseTiming();
    const size_t before = heap_in_use();
    auto tree = std::make_unique<Tree>();
    state.ResumeTiming();
    for (const RetainedPtr& message : messages) tree->set(message->topic, message);
    state.PauseTiming();
    const size_t bytes = heap_in_use() - before;
    state.counters["bytes_per_topic"] = static_cast<double>(bytes) / kRetainedTopics;
    state.counters["levels"] = static_cast<double>(tree->node_count());
    tree.reset();
    state.ResumeTiming();
  }
  state.SetItemsProcessed(state.iterations() * kRetainedTopics);
}

template <typename Tree>
Tree& fleet_tree() {
  static const std::vector<RetainedPtr> messages = retained_messages(Layout::fleet);
  static Tree* tree = [] {
    auto* built = new Tree();
    for (const RetainedPtr& message : messages) built->set(message->topic, message);
    return built;
  }();
  return *tree;
}

// 1,024 topics scattered over the fleet; `missing` names devices not present.
std::vector<RetainedPtr> fleet_sample(bool missing) {
  std::vector<RetainedPtr> sample;
  for (uint32_t n = 0; n < 1024; ++n) {
    const uint32_t device = (n * 7919) % kRetainedTopics;
    sample.push_back(retained_message(missing ? fmt::format("fleet/site-{:04}/device-{:07}/state",
                                                            device % kFleetSites, kRetainedTopics + device)
                                              : retained_topic(Layout::fleet, device)));
  }
  return sample;
}

template <typename Tree>
void retained_find(benchmark::State& state, bool missing) {
  const Tree& tree = fleet_tree<Tree>();
  const std::vector<RetainedPtr> sample = fleet_sample(missing);
  size_t next = 0;
  for (auto _ : state) benchmark::DoNotOptimize(tree.find(sample[next++ & 1023]->topic));
  state.SetItemsProcessed(state.iterations());
}

// Replaces the value of a present topic.
template <typename Tree>
void retained_replace(benchmark::State& state) {
  Tree& tree = fleet_tree<Tree>();
  const std::vector<RetainedPtr> sample = fleet_sample(false);
  std::vector<RetainedPtr> current;
  for (const RetainedPtr& message : sample) current.push_back(*tree.find(message->topic));
  size_t next = 0;
  for (auto _ : state) {
    const RetainedPtr& message = current[next++ & 1023];
    tree.set(message->topic, message);
  }
  state.SetItemsProcessed(state.iterations());
}

// Adds a topic beside 1,000 others and erases it again.
template <typename Tree>
void retained_set_erase(benchmark::State& state) {
  Tree& tree = fleet_tree<Tree>();
  const std::vector<RetainedPtr> sample = fleet_sample(true);
  size_t next = 0;
  for (auto _ : state) {
    const RetainedPtr& message = sample[next++ & 1023];
    tree.set(message->topic, message);
    benchmark::DoNotOptimize(tree.erase(message->topic));
  }
  state.SetItemsProcessed(state.iterations());
}

// Items are matched topics: `filter_of(n)` picks the n-th filter of 1,024.
template <typename Tree, typename FilterOf>
void retained_match(benchmark::State& state, FilterOf filter_of) {
  const Tree& tree = fleet_tree<Tree>();
  std::vector<std::string> filters;
  for (uint32_t n = 0; n < 1024; ++n) filters.push_back(filter_of((n * 7919) % kRetainedTopics));
  size_t next = 0;
  uint64_t matched = 0;
  for (auto _ : state) {
    tree.match(filters[next++ & 1023], [&](std::string_view, const RetainedPtr&) { ++matched; });
  }
  state.SetItemsProcessed(static_cast<int64_t>(matched));
  state.counters["matches_per_filter"] =
      benchmark::Counter(static_cast<double>(matched) / static_cast<double>(state.iterations()));
}

// A page of 100 topics in topic order under "fleet/#", after a cursor.
template <typename Tree>
void retained_page(benchmark::State& state) {
  const Tree& tree = fleet_tree<Tree>();
  const std::vector<RetainedPtr> sample = fleet_sample(false);
  size_t next = 0;
  uint64_t visited = 0;
  for (auto _ : state) {
    size_t page = 0;
    tree.match_after("fleet/#", std::string_view(sample[next++ & 1023]->topic), false,
                     [&](std::string_view, const RetainedPtr&) { return ++page < 100; });
    visited += page;
  }
  state.SetItemsProcessed(static_cast<int64_t>(visited));
}

template <typename Tree>
void register_retained(const std::string& variant) {
  const std::pair<const char*, Layout> layouts[] = {
      {"fleet", Layout::fleet}, {"flat", Layout::flat}, {"deep", Layout::deep}};
  for (const auto& [name, layout] : layouts) {
    benchmark::RegisterBenchmark(fmt::format("BM_RetainedMemory/{}/{}", variant, name).c_str(),
                                 retained_memory<Tree>, layout)
        ->Iterations(1)
        ->Unit(benchmark::kMillisecond);
  }
  const auto named = [&](const char* what) { return fmt::format("BM_Retained{}/{}", what, variant); };
  benchmark::RegisterBenchmark(named("Find").c_str(), retained_find<Tree>, false);
  benchmark::RegisterBenchmark(named("FindMissing").c_str(), retained_find<Tree>, true);
  benchmark::RegisterBenchmark(named("Replace").c_str(), retained_replace<Tree>);
  benchmark::RegisterBenchmark(named("SetErase").c_str(), retained_set_erase<Tree>);
  benchmark::RegisterBenchmark(named("MatchExact").c_str(), retained_match<Tree, std::string (*)(uint32_t)>,
                               [](uint32_t device) { return retained_topic(Layout::fleet, device); });
  benchmark::RegisterBenchmark(
      named("MatchSitePlus").c_str(), retained_match<Tree, std::string (*)(uint32_t)>,
      [](uint32_t device) { return fmt::format("fleet/site-{:04}/+/state", device % kFleetSites); });
  benchmark::RegisterBenchmark(
      named("MatchPlusDevice").c_str(), retained_match<Tree, std::string (*)(uint32_t)>,
      [](uint32_t device) { return fmt::format("fleet/+/device-{:07}/state", device); });
  benchmark::RegisterBenchmark(named("Page100").c_str(), retained_page<Tree>);
}

const bool kRetainedRegistered = [] {
  register_retained<PlainRetainedTree>("plain");
  register_retained<KeyedRetainedTree>("keyed");
  return true;
}();

}  // namespace

BENCHMARK_MAIN();

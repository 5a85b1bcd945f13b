// Micro-benchmarks of the subscription trie with 100,000 subscriptions:
//   90,000 literal filters   site/{s}/device/{d}/state      (one per device)
//    9,000 '+' filters       site/{s}/device/+/alarm        (90 per site)
//    1,000 '#' filters       site/{s}/#                     (10 per site)
// over 100 sites. A state topic matches 1 literal and 10 '#' filters, an
// alarm topic 90 '+' and 10 '#' filters, a topic outside site/ nothing. Each
// iteration matches the next of 1,024 different topics, so the walk is not
// served from one hot path. Timings only; nothing is checked.
#include <benchmark/benchmark.h>
#include <fmt/format.h>

#include <string>
#include <vector>

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

std::vector<std::string> topics_of(TopicKind kind) {
  std::vector<std::string> topics;
  for (uint32_t n = 0; n < 1024; ++n) {
    const uint32_t device = (n * 7919) % kDevices;  // scattered over the devices
    const uint32_t site = device % kSites;
    if (kind == TopicKind::state) topics.push_back(fmt::format("site/{}/device/{}/state", site, device));
    if (kind == TopicKind::alarm) topics.push_back(fmt::format("site/{}/device/{}/alarm", site, device));
    if (kind == TopicKind::miss) topics.push_back(fmt::format("plant/{}/device/{}/state", site, device));
  }
  return topics;
}

void match_loop(benchmark::State& state, TopicKind kind) {
  Tree& tree = shared_tree();
  const std::vector<std::string> topics = topics_of(kind);
  size_t next = 0;
  uint64_t matched = 0;
  for (auto _ : state) {
    tree.match(topics[next++ & 1023],
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

}  // namespace

BENCHMARK_MAIN();

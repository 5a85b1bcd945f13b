// How long acknowledgements wait while a snapshot of a large state is being
// written (issue 4: p99 stall under 50 ms). A client commits one small batch
// at a time and waits for it to be durable, as a QoS 1 publisher waits for
// its PUBACK, before, during and after a checkpoint of N retained messages on
// the real file system. The figures are printed, not asserted: benchmarks do
// not fail on timing. N is 100,000 by default; STELLWERK_STALL_RETAINED=1000000
// gives the figure recorded in docs/performance.md.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string_view>
#include <thread>
#include <vector>

#include "store/store.h"
#include "store_test_util.h"

namespace stellwerk::store {
namespace {

using testing::fixed_time;
using testing::make_message;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// STELLWERK_STALL_POLICY=interval measures that policy instead of always.
SyncPolicy policy() {
  const char* value = std::getenv("STELLWERK_STALL_POLICY");
  return value && std::string_view(value) == "interval" ? SyncPolicy::interval : SyncPolicy::always;
}

size_t retained_count() {
  const char* value = std::getenv("STELLWERK_STALL_RETAINED");
  return value ? std::strtoul(value, nullptr, 10) : 100'000;
}

void fill_retained(Store& store, size_t count) {
  constexpr size_t kPerBatch = 2000;
  Sequence last = 0;
  for (size_t first = 0; first < count; first += kPerBatch) {
    Batch batch = store.batch(fixed_time());
    for (size_t i = first; i < std::min(count, first + kPerBatch); ++i) {
      batch.retain(make_message(fmt::format("site/{}/device/{}/state", i / 1000, i), "{\"on\":true,\"level\":42}",
                                mqtt::QoS::at_least_once, true));
    }
    last = *store.commit(std::move(batch));
  }
  ASSERT_TRUE(store.wait_durable(last, 600s));
}

struct Latencies {
  std::vector<double> ms;
  double percentile(double p) {
    if (ms.empty()) return 0;
    std::sort(ms.begin(), ms.end());
    return ms[std::min(ms.size() - 1, static_cast<size_t>(p * static_cast<double>(ms.size())))];
  }
};

// Commits and waits, one batch at a time, until `stop`.
Latencies commit_until(Store& store, const std::atomic<bool>& stop) {
  Latencies latencies;
  uint16_t packet_id = 0;
  while (!stop.load()) {
    const auto start = Clock::now();
    Batch batch = store.batch(fixed_time());
    batch.add_inbound_qos2("probe", ++packet_id);
    auto sequence = store.commit(std::move(batch));
    if (!sequence.ok() || !store.wait_durable(*sequence, 60s)) break;
    latencies.ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - start).count());
  }
  return latencies;
}

TEST(SnapshotStall, CommitLatencyDuringASnapshotOfALargeStateIsPrinted) {
  char pattern[] = "/tmp/stellwerk-stall-XXXXXX";
  ASSERT_NE(mkdtemp(pattern), nullptr);
  const std::string root = pattern;
  Options options;
  options.dir = root + "/db";
  options.autosave_interval = 0s;
  options.max_log_bytes = 0;
  options.policy = policy();
  {
    auto opened = Store::open(posix_env(), options);
    ASSERT_TRUE(opened.ok());
    Store& store = *opened->store;
    const size_t count = retained_count();
    const auto fill_start = Clock::now();
    fill_retained(store, count);
    const double fill_s = std::chrono::duration<double>(Clock::now() - fill_start).count();

    std::atomic<bool> stop{false};
    Latencies latencies;
    std::thread client([&] { latencies = commit_until(store, stop); });
    std::this_thread::sleep_for(200ms);
    const auto snapshot_start = Clock::now();
    EXPECT_TRUE(store.checkpoint().ok());
    const double snapshot_ms = std::chrono::duration<double, std::milli>(Clock::now() - snapshot_start).count();
    std::this_thread::sleep_for(200ms);
    stop = true;
    client.join();
    const size_t commits = latencies.ms.size();
    std::printf(
        "[ measure  ] %zu retained (filled in %.1f s): snapshot took %.0f ms; %zu commits meanwhile, "
        "latency p50 %.2f ms, p99 %.2f ms, max %.2f ms (policy %s)\n",
        count, fill_s, snapshot_ms, commits, latencies.percentile(0.50), latencies.percentile(0.99),
        latencies.percentile(1.0), options.policy == SyncPolicy::always ? "always" : "interval");
    EXPECT_GT(commits, 0u);
  }
  std::filesystem::remove_all(root);
}

}  // namespace
}  // namespace stellwerk::store

// The whole path of a snapshot taken from the running broker: the store's
// snapshot thread walks the broker through BrokerSnapshotSource, a slice at
// a time under the lock the test's own traffic takes too, while that traffic
// goes on. Whatever the interleaving, the snapshots plus the log recover
// every message once, in order, and the last value of every retained topic.
#include "broker/snapshot_walk.h"

#include <gtest/gtest.h>

#include <atomic>
#include <vector>
#include <mutex>
#include <thread>

#include "store/recovery.h"
#include "stored_broker.h"

namespace stellwerk::broker::testing {
namespace {

using mqtt::QoS;
using mqtt::Version;

// Traffic goes on until several snapshots were taken, so the last one, the
// one recovery uses, ran during traffic too. It stays at most
// kAheadOfSnapshots messages ahead of them (waiting a millisecond at a
// time), which bounds the run on any machine.
constexpr int kMinMessages = 800;
constexpr int kAheadOfSnapshots = 2'000;
constexpr int kSnapshots = 6;
// Enough retained topics for several slices, so that traffic falls between them.
constexpr int kTopics = 2500;

class SnapshotWalkThroughStoreTest : public StoredBrokerTest {
 protected:
  // The source takes the lock the test holds for every broker call, and
  // finds the broker gone once the test ends it.
  void attach_source() {
    source = std::make_unique<BrokerSnapshotSource>(*store, [this](const std::function<void(Broker&)>& call) {
      std::lock_guard guard(broker_lock);
      if (!harness) return false;
      call(harness->broker);
      return true;
    });
    store->attach_source(*source);
  }
  void locked(const std::function<void()>& call) {
    std::lock_guard guard(broker_lock);
    call();
  }
  void end_broker() {
    std::lock_guard guard(broker_lock);
    harness.reset();
  }

  std::mutex broker_lock;
  std::unique_ptr<BrokerSnapshotSource> source;
};

store::RecoveredState recover_store(store::MemoryEnv& env) {
  auto recovered = store::recover(env, "/store", 0);
  EXPECT_TRUE(recovered.ok());
  EXPECT_TRUE(recovered->report.set_aside.empty());
  return recovered->state.to_recovered(store::TimeBase::now());
}

TEST_F(SnapshotWalkThroughStoreTest, CheckpointsDuringTrafficLoseAndRepeatNothing) {
  session::QueueLimits unlimited;
  unlimited.max_messages = 0;
  start();
  harness = std::make_unique<BrokerHarness>(BrokerConfig{.queue = unlimited});
  harness->broker.attach_store(store.get());
  attach_source();
  locked([&] {
    harness->connect(1, persistent("keeper", Version::v5));
    harness->send(1, subscribe(1, "q", QoS::at_least_once));
    harness->broker.on_close(1, "gone", harness->clock.now());
    harness->connect(2, "pub", Version::v5);
    for (int t = 0; t < kTopics; ++t) harness->send(2, publish("r/" + std::to_string(t), "initial", QoS::at_most_once, 0, true));
  });
  std::atomic<int> checkpoints{0};
  std::thread snapshots([&] {
    for (int i = 0; i < kSnapshots; ++i) {
      EXPECT_TRUE(store->checkpoint().ok());
      ++checkpoints;
    }
  });
  int sent = 0;
  for (; sent < kMinMessages || checkpoints < kSnapshots; ++sent) {
    if (sent >= (checkpoints + 1) * kAheadOfSnapshots) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    locked([&] {
      const auto id = static_cast<uint16_t>(sent % 60'000 + 1);
      harness->send(2, publish("q", std::to_string(sent), QoS::at_least_once, id));
      harness->send(2, publish("r/" + std::to_string(sent * 3 % kTopics), std::to_string(sent), QoS::at_least_once,
                               id, true));
    });
    std::this_thread::yield();  // the walk waits for the same lock
  }
  snapshots.join();
  EXPECT_EQ(checkpoints.load(), kSnapshots);
  end_broker();
  store.reset();

  const store::RecoveredState state = recover_store(env);
  ASSERT_EQ(state.sessions.size(), 1u);
  const auto& queue = state.sessions[0].queue;
  ASSERT_EQ(queue.size(), static_cast<size_t>(sent));
  for (int i = 0; i < sent; ++i) ASSERT_EQ(queue[i].message->payload(), std::to_string(i)) << i;
  ASSERT_EQ(state.retained.size(), static_cast<size_t>(kTopics));
  std::vector<std::string> expected(kTopics, "initial");
  for (int i = 0; i < sent; ++i) expected[i * 3 % kTopics] = std::to_string(i);
  for (const auto& message : state.retained) {
    const int topic = std::stoi(std::string(message->topic().substr(2)));
    EXPECT_EQ(message->payload(), expected[topic]) << message->topic();
  }
}

}  // namespace
}  // namespace stellwerk::broker::testing

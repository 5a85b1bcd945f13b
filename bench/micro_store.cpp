// Micro-benchmark of what the broker's thread does per QoS 1 delivery to a
// persistent session under persistence_sync interval, driving store::Store
// directly: a loop turn of deliveries (body, queue_push turned
// queue_push_inflight), committed in one batch, then a turn of their
// PUBACKs (inflight_delete). Under interval, commit() encodes nothing more
// but numbers, checksums and write()s the batch on the calling thread, so
// the figure is the recording work the worker does itself (as in the broker,
// a snapshot source is attached, so no mirror copies the frames). Items are
// deliveries; the log goes to a temporary directory on the real file system,
// or, in the Discarded variant, nowhere (DiscardingEnv), which leaves out
// the kernel's write and shows the encoding and checksums alone. The
// SentAtOnce variant records each delivery with the one call the broker
// makes for a delivery it sends without queueing it (Broker::deliver).
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "base/log.h"
#include "store/snapshot_source.h"
#include "store/store.h"

namespace {

namespace session = stellwerk::session;
namespace store = stellwerk::store;
namespace mqtt = stellwerk::mqtt;

constexpr int kSessions = 100;

// The broker attaches itself as the snapshot source, so that the store keeps
// no mirror of the log; this one gives empty snapshots (autosave is off here).
class EmptySource : public store::SnapshotSource {
 public:
  std::unique_ptr<store::SnapshotWalk> walk() override { return std::make_unique<EmptyWalk>(); }

 private:
  struct EmptyWalk : store::SnapshotWalk {
    std::optional<store::SnapshotSlice> next() override { return std::nullopt; }
    bool aborted() const override { return false; }
  };
};

// A file system that accepts every operation and keeps nothing: the store
// opens on an empty directory and everything it writes goes nowhere.
class DiscardingEnv final : public store::Env {
 public:
  store::IoResult<std::unique_ptr<store::WritableFile>> create(const std::string&) override {
    return std::unique_ptr<store::WritableFile>(std::make_unique<DiscardedFile>());
  }
  store::IoResult<std::string> read_all(const std::string& path) override {
    return stellwerk::fail(store::IoError{"read " + path + ": nothing is kept"});
  }
  store::IoResult<std::vector<std::string>> list(const std::string&) override {
    return std::vector<std::string>{};
  }
  store::IoStatus create_dir(const std::string&) override { return {}; }
  store::IoStatus rename(const std::string&, const std::string&) override { return {}; }
  store::IoStatus remove(const std::string&) override { return {}; }
  store::IoStatus sync_dir(const std::string&) override { return {}; }

 private:
  struct DiscardedFile final : store::WritableFile {
    store::IoStatus append(std::string_view data) override {
      benchmark::DoNotOptimize(data.data());
      return {};
    }
    store::IoStatus sync() override { return {}; }
    store::IoStatus close() override { return {}; }
  };
};

struct Fixture {
  explicit Fixture(store::Env& env) {
    char pattern[] = "/tmp/micro_store.XXXXXX";
    dir = ::mkdtemp(pattern);
    store::Options options;
    options.dir = dir;
    options.policy = store::SyncPolicy::interval;
    options.autosave_interval = std::chrono::seconds(0);
    options.max_log_bytes = 0;
    auto opened = store::Store::open(env, options);
    if (!opened) std::abort();
    db = std::move(opened.value().store);
    db->attach_source(source);
    for (int i = 0; i < kSessions; ++i) clients.push_back("bench-subscriber-" + std::to_string(i));
  }
  ~Fixture() {
    db.reset();
    std::filesystem::remove_all(dir);
  }

  std::string dir;
  EmptySource source;
  std::unique_ptr<store::Store> db;
  std::vector<std::string> clients;
};

session::MessagePtr publish(int sequence) {
  const std::string payload(64, static_cast<char>('a' + sequence % 26));
  return session::Message::create("bench/topic/" + std::to_string(sequence % kSessions), payload,
                                  {.qos = mqtt::QoS::at_least_once, .retain = false});
}

// How the broker records a delivery: queued, then sent (two calls the batch
// joins into one record), or sent at once (one call).
enum class Recording { queued_then_sent, sent_at_once };

void record_qos1_deliveries(benchmark::State& state, store::Env& env,
                            Recording recording = Recording::queued_then_sent) {
  stellwerk::log::set_min_level(stellwerk::log::Level::warning);
  const int per_turn = static_cast<int>(state.range(0));
  Fixture fixture(env);
  store::Batch batch = fixture.db->batch(store::TimeBase::now());
  std::vector<session::MessagePtr> messages;
  for (int i = 0; i < per_turn; ++i) messages.push_back(publish(i));
  uint16_t packet_id = 0;
  for (auto _ : state) {
    const uint16_t first_packet = packet_id;
    for (int i = 0; i < per_turn; ++i) {
      const std::string& client = fixture.clients[static_cast<size_t>(i % kSessions)];
      const session::Delivery delivery{messages[static_cast<size_t>(i)], mqtt::QoS::at_least_once, false, {}};
      if (recording == Recording::sent_at_once) {
        batch.push_inflight(client, delivery, ++packet_id, session::InflightState::awaiting_puback);
        continue;
      }
      batch.enqueue(client, delivery);
      batch.start_inflight(client, delivery.message, ++packet_id, session::InflightState::awaiting_puback);
    }
    benchmark::DoNotOptimize(fixture.db->commit(batch));
    packet_id = first_packet;
    for (int i = 0; i < per_turn; ++i) {
      batch.complete_inflight(fixture.clients[static_cast<size_t>(i % kSessions)], ++packet_id);
    }
    benchmark::DoNotOptimize(fixture.db->commit(batch));
  }
  state.SetItemsProcessed(state.iterations() * per_turn);
}

void BM_RecordQos1Deliveries(benchmark::State& state) { record_qos1_deliveries(state, store::posix_env()); }
BENCHMARK(BM_RecordQos1Deliveries)->Arg(1)->Arg(20)->Arg(100);

void BM_RecordQos1DeliveriesDiscarded(benchmark::State& state) {
  DiscardingEnv env;
  record_qos1_deliveries(state, env);
}
BENCHMARK(BM_RecordQos1DeliveriesDiscarded)->Arg(100)->Arg(1000);

void BM_RecordQos1DeliveriesSentAtOnceDiscarded(benchmark::State& state) {
  DiscardingEnv env;
  record_qos1_deliveries(state, env, Recording::sent_at_once);
}
BENCHMARK(BM_RecordQos1DeliveriesSentAtOnceDiscarded)->Arg(100)->Arg(1000);

}  // namespace

BENCHMARK_MAIN();

// Writes a large store straight through the Store API, as a broker would have
// left it, then times how long opening it takes (recovery, the first snapshot
// and building the broker's values). bench/persistence uses it to set up the
// restart measurement: a broker started on the directory afterwards restores
// the same state.
//   store_fill DIR [--retained N] [--sessions N] [--payload BYTES] [--open-only]
// --open-only skips the fill and times opening what DIR already holds.
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <chrono>
#include <cstdio>

#include "store/store.h"

namespace store = stellwerk::store;
namespace session = stellwerk::session;
namespace mqtt = stellwerk::mqtt;
using Clock = std::chrono::steady_clock;

namespace {

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

session::MessagePtr retained_message(size_t i, size_t payload_size) {
  return session::Message::create(fmt::format("fleet/site-{:04}/device-{:07}/state", i % 1000, i),
                                  std::string(payload_size, 'x'), {.qos = mqtt::QoS::at_least_once, .retain = true});
}

bool commit_and_wait(store::Store& target, store::Batch&& batch) {
  auto sequence = target.commit(std::move(batch));
  return sequence.ok() && target.wait_durable(*sequence, std::chrono::minutes(10));
}

bool fill(store::Store& target, size_t retained, size_t sessions, size_t payload_size) {
  const store::TimeBase time = store::TimeBase::now();
  constexpr size_t kPerBatch = 5000;
  for (size_t first = 0; first < retained; first += kPerBatch) {
    store::Batch batch = target.batch(time);
    for (size_t i = first; i < std::min(retained, first + kPerBatch); ++i) {
      batch.retain(retained_message(i, payload_size));
    }
    if (!commit_and_wait(target, std::move(batch))) return false;
  }
  const session::Subscription subscription{{mqtt::QoS::at_least_once, false, false, {}}, 0};
  for (size_t first = 0; first < sessions; first += kPerBatch) {
    store::Batch batch = target.batch(time);
    for (size_t i = first; i < std::min(sessions, first + kPerBatch); ++i) {
      const std::string client_id = fmt::format("device-{:07}", i);
      // Offline for now, expiring in a day, as after a clean shutdown.
      batch.put_session(client_id, store::SessionInfo{86400, std::nullopt, time.wall + 86'400'000, 0});
      batch.subscribe(client_id, fmt::format("fleet/site-{:04}/device-{:07}/command", i % 1000, i),
                      subscription);
    }
    if (!commit_and_wait(target, std::move(batch))) return false;
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app("Fills a Stellwerk store directory and times opening it", "store_fill");
  std::string dir;
  size_t retained = 1'000'000, sessions = 10'000, payload_size = 32;
  app.add_option("dir", dir, "store directory (persistence_location)")->required();
  app.add_option("--retained", retained, "retained topics");
  app.add_option("--sessions", sessions, "persistent sessions, one subscription each");
  app.add_option("--payload", payload_size, "payload bytes of each retained message");
  bool open_only = false;
  app.add_flag("--open-only", open_only, "only time opening the store DIR already holds");
  CLI11_PARSE(app, argc, argv);

  store::Options options;
  options.dir = dir;
  options.policy = store::SyncPolicy::interval;
  if (!open_only) {
    const auto start = Clock::now();
    auto opened = store::Store::open(store::posix_env(), options);
    if (!opened.ok() || !fill(*opened->store, retained, sessions, payload_size)) {
      std::fprintf(stderr, "store_fill: cannot write the store in %s\n", dir.c_str());
      return 1;
    }
    std::printf("filled %zu retained, %zu sessions in %.2f s\n", retained, sessions, seconds_since(start));
  }
  const auto start = Clock::now();
  auto reopened = store::Store::open(store::posix_env(), options);
  if (!reopened.ok()) return 1;
  std::printf("Store::open: %.2f s (recovery, first snapshot, broker values): %zu retained, %zu sessions\n",
              seconds_since(start), reopened->state.retained.size(), reopened->state.sessions.size());
  return 0;
}

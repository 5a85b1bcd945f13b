// Carries out WorkerBalance's steps (server/worker_balance.h,
// docs/design/worker-balance.md): the main thread samples the workers each
// tick, and a parked worker's connections move to the active ones through
// the same hand-over as connection affinity (affinity.cpp).
#include "base/log.h"
#include "base/thread_load.h"
#include "net/worker.h"
#include "server/server.h"

namespace stellwerk::server {
namespace {

const char* reason_text(BalanceReason why) {
  switch (why) {
    case BalanceReason::short_of_cores:
      return "the workers waited for a core";
    case BalanceReason::fits_on_fewer:
      return "the work fits on fewer workers";
    case BalanceReason::saturated:
      return "the workers were saturated";
    case BalanceReason::trial_lost:
      return "the trial moved fewer bytes";
    case BalanceReason::none:
      break;
  }
  return "";
}

}  // namespace

BalanceSample Server::sample_workers() const {
  BalanceSample sample{.at = Clock::now()};
  for (const auto& worker : workers_) {
    const auto load = base::thread_load(worker->thread_tid());
    const base::ThreadLoad figures = load.value_or(base::ThreadLoad{});
    sample.workers.push_back(WorkerLoad{.cpu_ns = figures.cpu_ns, .wait_ns = figures.wait_ns});
    const net::WorkerStats stats = worker->stats();
    sample.bytes += stats.bytes_read + stats.bytes_written;
  }
  return sample;
}

void Server::review_balance() {
  if (!balance_) return;
  retry_evacuations();
  const BalanceDecision decision = balance_->review(sample_workers());
  const WorkerBalance::Window& window = balance_->last_window();
  log::debug("worker balance: {:.1f} MB/s, waited {:.2f} of a core, {:.2f} busy, {} active",
             window.bytes_per_second / 1e6, window.wait_share, window.mean_busy, balance_->active());
  if (decision.step == BalanceStep::none) return;
  const char* step = decision.step == BalanceStep::park ? "parks" : "unparks";
  if (decision.why == BalanceReason::trial_lost) {
    log::notice("worker balance {} worker {}: {} ({:.1f} MB/s against {:.1f} before); {} active", step,
                decision.worker, reason_text(decision.why), decision.figure / 1e6, decision.before / 1e6,
                balance_->active());
  } else {
    log::notice("worker balance {} worker {} on trial: {} ({:.2f} of a core); {} active", step,
                decision.worker, reason_text(decision.why), decision.figure, balance_->active());
  }
  if (decision.step == BalanceStep::park) {
    park_worker(decision.worker);
  } else {
    unpark_worker(decision.worker);
  }
  active_workers_.store(balance_->active(), std::memory_order_relaxed);
}

void Server::park_worker(size_t index) {
  workers_[index]->set_parked(true);
  {
    std::lock_guard lock(broker_mutex_);
    traffic_.clear();  // affinity judges afresh where the connections now are
  }
  evacuations_left_.resize(workers_.size());
  evacuations_left_[index] = kEvacuations;
  evacuate(index);
}

std::vector<uint16_t> Server::active_worker_indexes() const {
  std::vector<uint16_t> active;
  for (const auto& worker : workers_) {
    if (!worker->parked()) active.push_back(static_cast<uint16_t>(worker->index()));
  }
  return active;
}

void Server::evacuate(size_t index) {
  --evacuations_left_[index];
  const std::vector<uint16_t> active = active_worker_indexes();
  net::Worker& parked = *workers_[index];
  parked.post([this, &parked, active] { share_connections(parked, 1, active); });
}

void Server::retry_evacuations() {
  // A connection blocked on a full socket buffer, paused or closing could
  // not move; try again a few ticks later. Those behind transports never
  // move, and after the last try the parked worker keeps serving them.
  for (size_t i = 0; i < evacuations_left_.size(); ++i) {
    if (evacuations_left_[i] > 0 && workers_[i]->parked() && workers_[i]->connection_count() > 0) evacuate(i);
  }
}

void Server::unpark_worker(size_t index) {
  net::Worker& joining = *workers_[index];
  joining.set_parked(false);
  if (index < evacuations_left_.size()) evacuations_left_[index] = 0;
  {
    std::lock_guard lock(broker_mutex_);
    traffic_.clear();
  }
  const size_t active = active_worker_indexes().size();
  const std::vector<uint16_t> taker{static_cast<uint16_t>(index)};
  for (auto& worker : workers_) {
    net::Worker* giver = worker.get();
    if (giver == &joining || giver->parked()) continue;
    giver->post([this, giver, active, taker] { share_connections(*giver, active, taker); });
  }
}

void Server::share_connections(net::Worker& w, size_t every, const std::vector<uint16_t>& takers) {
  if (takers.empty()) return;
  std::vector<net::ConnectionId> giving;
  {
    std::lock_guard lock(broker_mutex_);
    for (uint32_t slot = 0; slot < routes_.size(); ++slot) {
      const Route& route = routes_[slot];
      if (route.generation == 0 || route.worker != w.index()) continue;
      giving.push_back(net::ConnectionId{route.generation} << 32 | slot);
    }
  }
  // A parked worker (every 1) gives all, spread over the active ones; a
  // worker sharing with one that joins gives it every `every`th, so that
  // each active worker ends with about the same share. They move at the end
  // of this turn, as affinity's do: input read this turn is handed to the
  // broker before then, and its output goes out from here.
  std::vector<WantedMove>& wanted = moves_wanted_[static_cast<size_t>(w.index())];
  size_t turn = 0;
  for (size_t i = 0; i < giving.size(); ++i) {
    if (every > 1 && i % every != every - 1) continue;
    wanted.push_back(WantedMove{giving[i], takers[turn++ % takers.size()], "to balance the workers"});
  }
}

}  // namespace stellwerk::server

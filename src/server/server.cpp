#include "server/server.h"

#include <sched.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <poll.h>
#include <unistd.h>

#include <thread>

#include "base/log.h"
#include "net/listener.h"
#include "net/worker.h"
#include "server/broker_config.h"

namespace stellwerk::server {
namespace {

// A QoS 0 PUBLISH is dropped instead of queued once a connection has this much
// unwritten output: a client that does not read cannot grow the broker.
constexpr size_t kSlowReaderOutputLimit = 8 * 1024 * 1024;
constexpr auto kTickInterval = std::chrono::milliseconds(250);

// The worker whose thread is running, or null on the main thread.
thread_local net::Worker* current_worker = nullptr;

}  // namespace

int available_cores() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof(set), &set) != 0) return 1;
  return std::max(1, CPU_COUNT(&set));
}

Server::Server(config::Config config) : config_(std::move(config)) {
  broker_ = std::make_unique<broker::Broker>(make_broker_config(config_), *this, Clock::now());
}

Server::~Server() {
  for (auto& worker : workers_) {
    worker->request_stop();
    worker->join();
  }
}

Status<std::string> Server::open_listeners() {
  for (const config::ListenerConfig& listener : config_.effective_listeners()) {
    if (listener.protocol != "mqtt") {
      return fail(fmt::format("listener {}: protocol {} is not supported yet", listener.port, listener.protocol));
    }
    auto sockets = net::open_tcp_listener(listener.bind_address, listener.port);
    if (!sockets) {
      // Local-only mode opens 127.0.0.1 and ::1; one of them may be missing.
      if (!config_.listeners_configured() && !bound_ports_.empty()) continue;
      return fail(fmt::format("cannot listen on {}:{}: {}", listener.bind_address, listener.port, sockets.error()));
    }
    const int64_t limit = listener.max_connections;  // the config already applied the global default
    for (const net::ListenSocket& socket : sockets.value()) {
      auto entry = std::make_unique<Listener>();
      entry->fd = socket.fd;
      entry->max_connections = limit;
      listeners_.push_back(std::move(entry));
      bound_ports_.push_back(socket.port);
      log::notice("Opening listener on {} port {}.", socket.address, socket.port);
    }
  }
  if (listeners_.empty()) return fail(std::string("no listener could be opened"));
  return {};
}

Status<std::string> Server::start() {
  if (auto opened = open_listeners(); !opened) return opened;
  const int threads = config_.threads > 0 ? config_.threads : available_cores();
  for (int i = 0; i < threads; ++i) workers_.push_back(std::make_unique<net::Worker>(i, *this));
  for (auto& worker : workers_) {
    net::Worker* w = worker.get();
    for (size_t tag = 0; tag < listeners_.size(); ++tag) {
      const int fd = listeners_[tag]->fd;
      w->post([w, fd, tag] { w->add_listener(fd, static_cast<int>(tag)); });
    }
    w->start();
  }
  log::notice("stellwerk {} running with {} worker thread(s).", STELLWERK_VERSION, threads);
  return {};
}

// ---------------------------------------------------------------- net events

void Server::on_open(net::Worker& w, net::ConnectionId id, int listener_tag, const net::PeerAddress& peer) {
  current_worker = &w;
  Listener& listener = *listeners_[static_cast<size_t>(listener_tag)];
  if (listener.max_connections >= 0 && listener.open.load() >= listener.max_connections) {
    ++counters_.refused_max_connections;
    log::notice("Refusing connection from {}: listener at max_connections ({}).", peer.text,
                listener.max_connections);
    w.abort(id);
    return;
  }
  ++listener.open;
  std::lock_guard lock(broker_mutex_);
  owner_[id] = w.index();
  listener_of_[id] = listener_tag;
  broker_->on_open(id, peer.text, w.now());
}

void Server::on_data(net::Worker& w, net::ConnectionId id, std::span<const uint8_t> bytes) {
  current_worker = &w;
  std::lock_guard lock(broker_mutex_);
  broker_->on_data(id, bytes, w.now());
}

void Server::on_close(net::Worker& w, net::ConnectionId id, std::string_view why) {
  current_worker = &w;
  std::lock_guard lock(broker_mutex_);
  broker_->on_close(id, why, w.now());
  forget_connection(id);
}

void Server::on_turn_end(net::Worker& w) {
  current_worker = &w;
  flush_batches();
}

// ---------------------------------------------------------------- output

void Server::forget_connection(net::ConnectionId id) {
  owner_.erase(id);
  auto it = listener_of_.find(id);
  if (it == listener_of_.end()) return;
  --listeners_[static_cast<size_t>(it->second)]->open;
  listener_of_.erase(it);
}

void Server::send(broker::ConnectionId id, std::string bytes, bool droppable) {
  route_output(Outgoing{id, std::move(bytes), droppable, false});
}

void Server::close(broker::ConnectionId id) {
  route_output(Outgoing{id, {}, false, true});
  forget_connection(id);
}

void Server::route_output(Outgoing item) {
  auto it = owner_.find(item.id);
  if (it == owner_.end()) return;
  const int owner = it->second;
  if (current_worker && current_worker->index() == owner) {
    apply_output(*current_worker, item);
    return;
  }
  batches_for_thread(workers_.size())[static_cast<size_t>(owner)].push_back(std::move(item));
}

void Server::apply_output(net::Worker& worker, Outgoing& item) {
  if (item.close) {
    worker.close(item.id);
    return;
  }
  if (item.droppable && worker.queued_output_bytes(item.id) > kSlowReaderOutputLimit) {
    if (counters_.dropped_slow_reader.fetch_add(1) % 10000 == 0) {
      log::warning("Dropping QoS 0 messages for a client that does not read (output over {} bytes).",
                   kSlowReaderOutputLimit);
    }
    return;
  }
  worker.send(item.id, std::move(item.bytes));
}

void Server::flush_batches() {
  auto& batches = batches_for_thread(workers_.size());
  for (size_t target = 0; target < batches.size(); ++target) {
    if (batches[target].empty()) continue;
    net::Worker* worker = workers_[target].get();
    auto batch = std::make_shared<std::vector<Outgoing>>(std::move(batches[target]));
    batches[target].clear();
    worker->post([this, worker, batch] {
      for (Outgoing& item : *batch) apply_output(*worker, item);
    });
  }
}

std::vector<std::vector<Server::Outgoing>>& Server::batches_for_thread(size_t workers) {
  thread_local std::vector<std::vector<Outgoing>> batches;
  if (batches.size() < workers) batches.resize(workers);
  return batches;
}

// ---------------------------------------------------------------- main loop

void Server::tick() {
  {
    std::lock_guard lock(broker_mutex_);
    broker_->tick(Clock::now());
  }
  flush_batches();
}

void Server::shutdown() {
  log::notice("stellwerk shutting down.");
  {
    std::lock_guard lock(broker_mutex_);
    broker_->shutdown(Clock::now());
  }
  flush_batches();
  // Let the workers write the DISCONNECTs they were just handed.
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  for (auto& worker : workers_) worker->request_stop();
  for (auto& worker : workers_) worker->join();
  workers_.clear();
}

void Server::run() {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGHUP);
  const int signal_fd = signalfd(-1, &signals, SFD_CLOEXEC);
  while (!stop_requested_.load()) {
    pollfd pfd{signal_fd, POLLIN, 0};
    const int ready = ::poll(&pfd, 1, static_cast<int>(kTickInterval.count()));
    if (ready > 0) {
      signalfd_siginfo info{};
      if (::read(signal_fd, &info, sizeof(info)) == sizeof(info)) {
        if (info.ssi_signo == SIGHUP) {
          log::notice("SIGHUP received: nothing to reload yet in this build.");
        } else {
          log::notice("Signal {} received.", info.ssi_signo);
          break;
        }
      }
    }
    tick();
  }
  ::close(signal_fd);
  shutdown();
}

}  // namespace stellwerk::server

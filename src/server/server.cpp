#include "server/server.h"

#include <malloc.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <algorithm>
#include <thread>

#include "base/log.h"
#include "net/listener.h"
#include "net/tls_context.h"
#include "net/worker.h"
#include "server/broker_config.h"

namespace stellwerk::server {
namespace {

// A QoS 0 PUBLISH is dropped instead of queued once a connection has this much
// unwritten output: a client that does not read cannot grow the broker.
constexpr size_t kSlowReaderOutputLimit = 8 * 1024 * 1024;
// A connection with a retained backlog gets its next chunk once its unwritten
// output is below this: low enough to stay far from the limit above, high
// enough that the socket never runs dry between chunks.
constexpr size_t kDrainThreshold = 256 * 1024;
constexpr auto kTickInterval = std::chrono::milliseconds(250);

// The worker whose thread is running, or null on the main, store and
// password-checker threads.
thread_local net::Worker* current_worker = nullptr;

// What the running worker read this turn and has not yet handed to the
// broker (turn_input.h); empty with a single worker.
thread_local TurnInput pending_input;

}  // namespace

int available_cores() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof(set), &set) != 0) return 1;
  return std::max(1, CPU_COUNT(&set));
}

Server::Server(config::Config config) : config_(std::move(config)) {}

Server::~Server() {
  admin_.reset();  // its threads call into the broker
  for (auto& worker : workers_) {
    worker->request_stop();
    worker->join();
  }
  // The broker goes before the store and the access control it points to;
  // under the lock, so that a snapshot walk of the store's finds it gone.
  std::unique_ptr<broker::Broker> broker;
  {
    std::lock_guard lock(broker_mutex_);
    broker = std::move(broker_);
  }
  broker.reset();
  // Its threads take the broker lock (snapshot walks) until they stop.
  store_.reset();
}

// ---------------------------------------------------------------- start-up

Status<std::string> Server::load_access_control() {
  // Made even without files, so that a reload can add them.
  auto loaded = FileAccessControl::load(
      config_.password_file, config_.acl_file,
      [this](uint64_t connection, bool accepted) { on_verdict(connection, accepted); });
  if (!loaded) return fail(loaded.error());
  access_ = std::move(loaded).value();
  return {};
}

Status<std::string> Server::open_store() {
  if (!config_.persistence) return {};
  store::Options options;
  options.dir = config_.persistence_location.empty() ? "." : config_.persistence_location;
  switch (config_.persistence_sync) {
    case config::PersistenceSync::always:
      options.policy = store::SyncPolicy::always;
      break;
    case config::PersistenceSync::interval:
      options.policy = store::SyncPolicy::interval;
      break;
    case config::PersistenceSync::never:
      options.policy = store::SyncPolicy::never;
      break;
  }
  options.sync_interval = std::chrono::milliseconds(config_.persistence_sync_interval_ms);
  options.autosave_interval = std::chrono::seconds(config_.autosave_interval);
  options.on_durable = [this](store::Sequence sequence) { on_durable(sequence); };
  auto opened = store::Store::open(store::posix_env(), std::move(options));
  if (!opened) return fail(fmt::format("cannot open the store in {}", config_.persistence_location));
  store_ = std::move(opened.value().store);
  // Attached first, so what the restore itself changes (wills of sessions
  // that were connected at the crash) is recorded too.
  broker_->attach_store(store_.get());
  {
    const store::RecoveredState recovered = std::move(opened.value().state);
    broker_->restore(recovered, Clock::now());
  }
  // Recovery's buffers and tables are freed by now, but malloc keeps their
  // pages between the chunks that stay: about 8 bytes of RSS per retained
  // message at a million (docs/performance.md, issue 4 memory).
  malloc_trim(0);
  broker_->defer_commits(true);  // with_broker() and on_turn_end() commit
  // Only now: a walk before the restore would snapshot an empty broker.
  snapshot_source_ = std::make_unique<broker::BrokerSnapshotSource>(
      *store_, [this](const std::function<void(broker::Broker&)>& call) {
        bool ran = false;
        with_broker([&](broker::Broker& broker) {
          call(broker);
          ran = true;
        });
        return ran;
      });
  store_->attach_source(*snapshot_source_);
  return {};
}

Result<std::shared_ptr<const net::TransportStack>, std::string> make_transports(
    const config::ListenerConfig& listener, uint32_t max_packet_size, const std::string& psk_file) {
  const bool tls = !listener.certfile.empty() || !listener.psk_hint.empty();
  const bool websocket = listener.protocol == "websockets";
  const bool proxy = !listener.proxy_protocol.empty();
  if (!tls && !websocket && !proxy) return std::shared_ptr<const net::TransportStack>();
  auto stack = std::make_shared<net::TransportStack>();
  if (proxy) stack->proxy = listener.proxy_protocol == "1" ? net::ProxyProtocol::v1 : net::ProxyProtocol::v2;
  if (websocket) {
    net::WebSocketSettings settings;
    settings.max_frame_bytes = uint64_t{max_packet_size} + 64 * 1024;
    stack->websocket = settings;
  }
  if (tls) {
    net::TlsSettings settings;
    settings.cafile = listener.cafile;
    settings.capath = listener.capath;
    settings.certfile = listener.certfile;
    settings.keyfile = listener.keyfile;
    settings.tls_version = listener.tls_version;
    settings.ciphers = listener.ciphers;
    settings.ciphers_tls13 = listener.ciphers_tls13;
    settings.require_certificate = listener.require_certificate;
    settings.crlfile = listener.crlfile;
    settings.psk_hint = listener.psk_hint;
    if (!listener.psk_hint.empty() && !psk_file.empty()) {
      auto table = net::load_psk_file(psk_file);
      if (!table) return fail(table.error());
      settings.psk_lookup = net::psk_lookup_from(std::move(table).value());
    }
    auto context = net::make_tls_context(settings);
    if (!context) return fail(context.error());
    stack->tls = std::move(context).value();
  }
  return std::shared_ptr<const net::TransportStack>(std::move(stack));
}

Status<std::string> Server::open_listeners() {
  for (const config::ListenerConfig& listener : config_.effective_listeners()) {
    auto transports = make_transports(listener, config_.max_packet_size, config_.psk_file);
    if (!transports) return fail(fmt::format("listener {}: {}", listener.port, transports.error()));
    auto sockets = net::open_tcp_listener(listener.bind_address, listener.port);
    if (!sockets) {
      // Local-only mode opens 127.0.0.1 and ::1; one of them may be missing.
      if (!config_.listeners_configured() && !bound_ports_.empty()) continue;
      return fail(
          fmt::format("cannot listen on {}:{}: {}", listener.bind_address, listener.port, sockets.error()));
    }
    for (const net::ListenSocket& socket : sockets.value()) {
      auto entry = std::make_unique<Listener>();
      entry->fd = socket.fd;
      entry->source = listener;
      entry->max_connections = listener.max_connections;  // the config applied the global default
      entry->transports = transports.value();
      entry->identity_as_username = listener.use_identity_as_username;
      entry->subject_as_username = listener.use_subject_as_username;
      listeners_.push_back(std::move(entry));
      bound_ports_.push_back(socket.port);
      log::notice("Opening {} listener on {} port {}.", listener.protocol, socket.address, socket.port);
    }
  }
  if (listeners_.empty()) return fail(std::string("no listener could be opened"));
  return {};
}

Status<std::string> Server::start() {
  if (auto loaded = load_access_control(); !loaded) return loaded;
  broker_ = std::make_unique<broker::Broker>(make_broker_config(config_), *this, Clock::now(), access_.get());
  if (auto opened = open_store(); !opened) return opened;
  if (auto opened = open_listeners(); !opened) return opened;
  const int threads = config_.threads > 0 ? config_.threads : available_cores();
  net::WorkerOptions options;
  options.wakeup_coalescing = std::chrono::microseconds(config_.wakeup_coalescing_us);
  options.batch_system_calls = config_.batch_system_calls;
  for (int i = 0; i < threads; ++i) workers_.push_back(std::make_unique<net::Worker>(i, *this, options));
  net::Worker::make_peers(workers_);
  if (threads > 1 && config_.worker_balance) balance_ = std::make_unique<WorkerBalance>(workers_.size());
  active_workers_.store(workers_.size());
  {
    // The store thread may already be releasing output (on_durable calls
    // post_drains, which walks routed_ and arrivals_ together).
    std::lock_guard lock(broker_mutex_);
    routed_.resize(workers_.size());
    turn_commits_ = TurnCommits(workers_.size());
    drain_posted_.resize(workers_.size(), false);
    drain_wanted_.resize(workers_.size());
    moves_wanted_.resize(workers_.size());
    arrivals_.resize(workers_.size());
  }
  for (auto& worker : workers_) {
    net::Worker* w = worker.get();
    for (size_t tag = 0; tag < listeners_.size(); ++tag) {
      const int fd = listeners_[tag]->fd;
      auto transports = listeners_[tag]->transports;
      w->post([w, fd, tag, transports] { w->add_listener(fd, static_cast<int>(tag), transports); });
    }
    w->start();
  }
  if (!config_.admin_socket.empty()) {
    auto admin = admin::AdminServer::start(admin::AdminServerOptions{.path = config_.admin_socket}, *this);
    if (!admin) return fail(admin.error());
    admin_ = std::move(admin).value();
  }
  log::notice("stellwerk {} running with {} worker thread(s).", STELLWERK_VERSION, threads);
  return {};
}

// ---------------------------------------------------------------- broker calls

template <typename Call>
void Server::with_broker(Call&& call) {
  call_broker(call, defers_commit());
}

template <typename Call>
void Server::call_broker(Call&& call, bool deferred) {
  // The calling worker's own output is applied after the lock is released:
  // only this thread takes items out of its list, so order is kept, and the
  // other workers wait less for the lock.
  thread_local OutputBatch own;
  {
    std::lock_guard lock(broker_mutex_);
    if (!broker_) return;  // the server is stopping (a snapshot walk)
    if (current_worker) hand_over_input(*current_worker);
    call(*broker_);
    // A deferred call's output stays staged until the turn's commit releases
    // it (commit_turn): no copy into held_ for what waits a single turn.
    if (!deferred) {
      commit_and_release();
      release_staged();
      held_.close();
    }
    if (current_worker) take_routed(*current_worker, own);
    post_drains();
  }
  // On a worker: before the writes that end its loop turn.
  if (current_worker) apply_all(*current_worker, own);
}

bool Server::defers_commit() {
  if (!store_ || !current_worker) return false;
  return turn_commits_.defer(static_cast<size_t>(current_worker->index()), current_worker->now());
}

void Server::commit_turn() {
  call_broker([](broker::Broker&) {}, false);
}

void Server::commit_and_release() {
  broker_->commit_records();
  // Under persistence_sync interval and never the commit wrote the records
  // itself (store.h): what waited for them goes now, not on a store thread
  // call back.
  if (store_) release_durable(store_->durable_up_to());
}

void Server::on_open(net::Worker& w, net::ConnectionId id, int listener_tag, const net::PeerAddress& peer) {
  current_worker = &w;
  Listener& listener = *listeners_[static_cast<size_t>(listener_tag)];
  const int64_t limit = listener.max_connections.load();
  if (limit >= 0 && listener.open.load() >= limit) {
    refuse_over_limit(w, id, listener_tag, peer);
    return;
  }
  ++listener.open;
  with_broker([&](broker::Broker& broker) {
    add_route(id, w.index(), listener_tag);
    broker.on_open(id, peer.text, w.now());
  });
}

void Server::on_peer_info(net::Worker& w, net::ConnectionId id, const net::PeerInfo& info) {
  current_worker = &w;
  std::optional<std::string> username;
  with_broker([&](broker::Broker& broker) {
    const Route* route = route_of(id);
    if (!route) return;
    const Listener& listener = *listeners_[route->listener];
    if (listener.identity_as_username) {
      username = !info.psk_identity.empty() ? info.psk_identity : info.certificate_common_name;
    } else if (listener.subject_as_username) {
      username = info.certificate_subject;
    }
    if (username && !username->empty()) broker.set_transport_username(id, *username);
    if (info.via_proxy) broker.set_peer(id, info.address.text);
  });
}

void Server::on_data(net::Worker& w, net::ConnectionId id, std::span<const uint8_t> bytes) {
  current_worker = &w;
  if (refusal_count_.load(std::memory_order_relaxed) != 0 && feed_refusal(w, id, bytes)) return;
  if (active_workers_.load(std::memory_order_relaxed) > 1) {
    pending_input.add(id, bytes);
    if (pending_input.full()) with_broker([](broker::Broker&) {});
    return;
  }
  with_broker([&](broker::Broker& broker) { broker.on_data(id, bytes, w.now()); });
}

void Server::hand_over_input(net::Worker& w) {
  pending_input.take([&](net::ConnectionId id, std::span<const uint8_t> bytes) {
    const size_t first_item = staged_.items().size();
    broker_->on_data(id, bytes, w.now());
    count_traffic(w, id, first_item);
  });
}

void Server::on_close(net::Worker& w, net::ConnectionId id, std::string_view why) {
  current_worker = &w;
  if (refusal_count_.load(std::memory_order_relaxed) != 0 && end_refusal(id)) return;
  with_broker([&](broker::Broker& broker) {
    broker.on_close(id, why, w.now());
    forget_connection(id);
  });
}

void Server::on_turn_end(net::Worker& w) {
  current_worker = &w;
  if (!pending_input.empty()) with_broker([](broker::Broker&) {});
  continue_drained(w);
  if (turn_commits_.end_turn(static_cast<size_t>(w.index()), w.now())) commit_turn();
  move_wanted_connections(w);
}

void Server::on_verdict(uint64_t connection, bool accepted) {
  // A checker thread: the verdict joins the broker like any other event.
  with_broker(
      [&](broker::Broker& broker) { broker.complete_authentication(connection, accepted, Clock::now()); });
}

// ---------------------------------------------------------------- output

Server::Route* Server::route_of(net::ConnectionId id) {
  const uint32_t slot = net::connection_slot(id);
  if (slot >= routes_.size()) return nullptr;
  Route& route = routes_[slot];
  return route.generation == net::connection_generation(id) ? &route : nullptr;
}

void Server::add_route(net::ConnectionId id, int worker, int listener_tag) {
  const uint32_t slot = net::connection_slot(id);
  if (slot >= routes_.size()) routes_.resize(slot + 1);
  routes_[slot] = Route{net::connection_generation(id), static_cast<uint16_t>(worker),
                        static_cast<uint16_t>(listener_tag)};
}

void Server::forget_connection(net::ConnectionId id) {
  Route* route = route_of(id);
  if (!route) return;
  --listeners_[route->listener]->open;
  *route = Route{};
}

void Server::send(broker::ConnectionId id, std::string_view bytes, bool droppable) {
  staged_.add(id, bytes, droppable);
}

void Server::close(broker::ConnectionId id) { staged_.add_close(id); }

void Server::hold_until(uint64_t sequence) {
  staged_sequence_ = std::max(staged_sequence_, sequence);
  last_hold_ = std::max(last_hold_, sequence);
}

void Server::release_staged() {
  // Output waits for the store when its call committed records that are not
  // durable yet, or when earlier output still waits (order per connection).
  const bool must_wait =
      !held_.empty() || (staged_sequence_ && (!store_ || store_->durable_up_to() < staged_sequence_));
  if (must_wait) {
    held_.hold(staged_, staged_sequence_);
  } else {
    for (const Outgoing& item : staged_.items()) route_output(staged_, item);
  }
  staged_.clear();
  staged_sequence_ = 0;
}

void Server::on_durable(uint64_t sequence) {
  // The store thread: release what became durable, in order.
  std::lock_guard lock(broker_mutex_);
  release_durable(sequence);
  post_drains();
}

void Server::release_durable(uint64_t durable) {
  held_.release(durable, [this](OutputBatch& from, const Outgoing& item) { route_output(from, item); });
}

void Server::route_output(OutputBatch& from, const Outgoing& item) {
  const Route* route = route_of(item.id);
  if (!route) return;
  const size_t owner = route->worker;
  if (item.close) forget_connection(item.id);
  routed_[owner].take(from, item);
}

void Server::take_routed(net::Worker& worker, OutputBatch& into) {
  // Order per connection is the order of routed_[w]: every item joins it
  // under the broker lock in the order the broker produced it, and only
  // worker w takes items out, all at once, and applies them before it takes
  // more. So a message routed on another worker can never be overtaken by a
  // later one sent on the owner. Swapped, so both vectors keep their capacity.
  const auto index = static_cast<size_t>(worker.index());
  take_arrivals(worker);
  into.clear();
  into.swap(routed_[index]);
}

void Server::post_drains() {
  for (size_t target = 0; target < routed_.size(); ++target) {
    if ((routed_[target].empty() && arrivals_[target].empty()) || drain_posted_[target]) continue;
    // One task per worker until it has drained: wake-ups are coalesced.
    drain_posted_[target] = true;
    net::Worker* worker = workers_[target].get();
    worker->post([this, worker] { drain_routed(*worker); });
  }
}

void Server::drain_routed(net::Worker& worker) {
  thread_local OutputBatch items;
  {
    std::lock_guard lock(broker_mutex_);
    take_routed(worker, items);
    drain_posted_[static_cast<size_t>(worker.index())] = false;
  }
  apply_all(worker, items);
}

void Server::apply_all(net::Worker& worker, OutputBatch& batch) {
  for (const Outgoing& item : batch.items()) apply_output(worker, batch, item);
  batch.clear();
}

void Server::apply_output(net::Worker& worker, OutputBatch& batch, const Outgoing& item) {
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
  if (item.owned) {
    worker.send(item.id, batch.take_owned(item));  // a large one goes to the socket's queue as it is
  } else {
    worker.send(item.id, batch.bytes_of(item));
  }
}

// ---------------------------------------------------------------- retained backlogs

void Server::want_drain(broker::ConnectionId id) {
  const Route* route = route_of(id);
  if (!route) return;  // closing: nothing more goes out
  net::Worker* owner = workers_[route->worker].get();
  if (owner == current_worker) {
    note_drain_wanted(*owner, id);
    return;
  }
  owner->post([this, owner, id] { note_drain_wanted(*owner, id); });
}

void Server::note_drain_wanted(net::Worker& worker, net::ConnectionId id) {
  // Runs on the owner's thread, before its turn ends: continue_drained sees it.
  auto& wanted = drain_wanted_[static_cast<size_t>(worker.index())];
  if (std::find(wanted.begin(), wanted.end(), id) == wanted.end()) wanted.push_back(id);
}

void Server::continue_drained(net::Worker& worker) {
  auto& wanted = drain_wanted_[static_cast<size_t>(worker.index())];
  if (wanted.empty()) return;
  std::vector<net::ConnectionId> ready;
  std::erase_if(wanted, [&](net::ConnectionId id) {
    if (worker.queued_output_bytes(id) > kDrainThreshold) return false;
    ready.push_back(id);
    return true;
  });
  if (!ready.empty()) {
    with_broker([&](broker::Broker& broker) {
      for (net::ConnectionId id : ready) broker.continue_retained(id, worker.now());
    });
  }
  // Output that is not blocked was queued during this turn and is written
  // right after it: look again next turn (a task keeps the loop from
  // sleeping). Blocked output waits for its EPOLLOUT edge, which turns the
  // loop by itself, so a slow reader costs no spinning.
  const bool look_again = std::any_of(wanted.begin(), wanted.end(),
                                      [&](net::ConnectionId id) { return !worker.output_blocked(id); });
  if (look_again) worker.post([] {});
}

// ---------------------------------------------------------------- main loop

void Server::tick() {
  with_broker([&](broker::Broker& broker) { broker.tick(Clock::now()); });
}

void Server::shutdown() {
  log::notice("stellwerk shutting down.");
  admin_.reset();
  with_broker([&](broker::Broker& broker) { broker.shutdown(Clock::now()); });
  if (store_ && last_hold_) {
    // What the last calls committed is written, and their output released,
    // before the workers stop.
    (void)store_->wait_durable(last_hold_, std::chrono::seconds(2));
  }
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
          log::notice("SIGHUP received: reloading.");
          (void)reload();  // a failure is logged and changes nothing
        } else {
          log::notice("Signal {} received.", info.ssi_signo);
          break;
        }
      }
    }
    tick();
    review_balance();
  }
  ::close(signal_fd);
  shutdown();
}

// ---------------------------------------------------------------- admin socket

std::vector<mqtt::Publish> Server::retained_page(const admin::RetainedQuery& query) {
  std::vector<mqtt::Publish> page;
  with_broker([&](broker::Broker& broker) {
    page = broker.retained_page(query.filter, query.after, query.limit, query.with_payload, Clock::now());
  });
  return page;
}

size_t Server::clear_retained(const std::vector<std::string>& topics) {
  size_t cleared = 0;
  with_broker([&](broker::Broker& broker) { cleared = broker.clear_retained(topics); });
  return cleared;
}

void Server::set_retained(std::vector<mqtt::Publish> messages) {
  with_broker([&](broker::Broker& broker) { broker.set_retained(std::move(messages), Clock::now()); });
}

bool Server::wait_durable() {
  if (!store_) return true;
  uint64_t sequence = 0;
  with_broker([&](broker::Broker&) { sequence = last_hold_; });
  return sequence == 0 || store_->wait_durable(sequence, std::chrono::seconds(30));
}

void Server::backup(std::string directory, BackupDone done) {
  if (!store_) {
    done(fail(std::string("persistence is off: there is no durable state to back up")));
    return;
  }
  store_->backup(std::move(directory), std::move(done));
}

}  // namespace stellwerk::server

// The composition root: turns a Config into listeners, worker event loops and
// one Broker, and is the only place where net and broker meet.
//
// Threading (docs/design/threading.md): each connection lives on one Worker
// at a time (affinity.cpp may move it to the worker its deliveries go to).
// Calls into the Broker are serialised by one mutex; what the broker sends to
// a connection owned by another worker is gathered per target worker and
// handed over in one posted batch at the end of the loop turn.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "admin/admin_server.h"
#include "admin/broker_port.h"
#include "base/result.h"
#include "base/spinning_mutex.h"
#include "broker/broker.h"
#include "broker/snapshot_walk.h"
#include "config/config.h"
#include "net/connection_handler.h"
#include "net/transport.h"
#include "server/access_control.h"
#include "server/held_output.h"
#include "server/output_batch.h"
#include "server/turn_commits.h"
#include "server/turn_input.h"
#include "server/worker_balance.h"
#include "store/store.h"

namespace stellwerk::net {
class Worker;
}

namespace stellwerk::server {

struct ServerCounters {
  std::atomic<uint64_t> dropped_slow_reader{0};      // QoS 0 dropped at a full output buffer
  std::atomic<uint64_t> refused_max_connections{0};  // answered with a refusing CONNACK or closed
  std::atomic<uint64_t> reloads{0};                  // successful reloads
  std::atomic<uint64_t> connections_moved{0};        // to another worker (affinity, balance)
};

class Server final : public net::ConnectionHandler, public broker::Outbox, public admin::BrokerPort {
 public:
  explicit Server(config::Config config);
  ~Server() override;

  // Opens every listener and starts the workers. Fails with a message when a
  // listener cannot be opened.
  [[nodiscard]] Status<std::string> start();
  // Where SIGHUP finds the configuration again (the file and the command
  // line's overrides). Without one, SIGHUP re-reads the files the current
  // configuration names.
  using ConfigSource = std::function<Result<config::Config, std::string>()>;
  void set_config_source(ConfigSource source) { config_source_ = std::move(source); }
  // Serves until SIGTERM or SIGINT, then shuts down gracefully. SIGHUP
  // reloads (see reload()).
  void run();
  // Re-reads the configuration, the password and ACL files and every TLS
  // listener's certificates, keys and CRLs, without dropping a client. All or
  // nothing: when anything fails to load, the previous configuration stays and
  // the log says why. Returns that reason.
  Status<std::string> reload();
  // Stops from another thread (tests).
  void request_stop() { stop_requested_.store(true); }
  std::vector<uint16_t> bound_ports() const { return bound_ports_; }
  int worker_count() const { return static_cast<int>(workers_.size()); }
  const ServerCounters& counters() const { return counters_; }

  // net::ConnectionHandler
  void on_open(net::Worker& w, net::ConnectionId id, int listener_tag, const net::PeerAddress& peer) override;
  void on_data(net::Worker& w, net::ConnectionId id, std::span<const uint8_t> bytes) override;
  void on_close(net::Worker& w, net::ConnectionId id, std::string_view why) override;
  void on_turn_end(net::Worker& w) override;
  void on_peer_info(net::Worker& w, net::ConnectionId id, const net::PeerInfo& info) override;

  // broker::Outbox (called with the broker lock held)
  void send(broker::ConnectionId id, std::string_view bytes, bool droppable) override;
  void close(broker::ConnectionId id) override;
  void hold_until(uint64_t sequence) override;
  void want_drain(broker::ConnectionId id) override;

  // admin::BrokerPort, for the admin socket's threads: each call takes the
  // broker lock through with_broker() for one chunk.
  std::vector<mqtt::Publish> retained_page(const admin::RetainedQuery& query) override;
  size_t clear_retained(const std::vector<std::string>& topics) override;
  void set_retained(std::vector<mqtt::Publish> messages) override;
  bool wait_durable() override;
  void backup(std::string directory, BackupDone done) override;

 private:
  using Outgoing = OutputBatch::Item;
  struct Listener {
    int fd;
    config::ListenerConfig source;  // what opened it; a reload matches on port, address and protocol
    std::atomic<int64_t> max_connections;
    std::shared_ptr<const net::TransportStack> transports;  // null = plain TCP
    bool identity_as_username = false;                      // use_identity_as_username
    bool subject_as_username = false;                       // use_subject_as_username
    std::atomic<int64_t> open{0};
    std::atomic<int64_t> refusing{0};  // over max_connections, waiting for their CONNECT to be refused
  };
  // A connection over its listener's max_connections: its CONNECT is read only
  // to answer it in the client's protocol version (over_limit.h).
  struct Refusal {
    int listener_tag;
    std::string received;
  };
  // Where a connection lives, kept by its slot (net::connection_slot): one
  // small entry per connection rather than a hash node per connection and
  // per table. The generation tells a live entry from one of a connection
  // that is gone. Guarded by broker_mutex_.
  struct Route {
    uint32_t generation = 0;  // net::connection_generation; 0 = no connection
    uint16_t worker = 0;
    uint16_t listener = 0;
  };
  Route* route_of(net::ConnectionId id);
  void add_route(net::ConnectionId id, int worker, int listener_tag);

  // Connection affinity (affinity.cpp). With several workers, a connection
  // whose deliveries go nearly all to the connections of one other worker
  // moves to that worker, so they stop crossing between threads.
  struct Traffic {
    uint32_t generation = 0;  // of the connection counted (net::connection_generation)
    uint32_t home = 0;        // deliveries to connections on its own worker (or a third one)
    uint32_t away = 0;        // deliveries to connections on away_worker
    uint16_t away_worker = 0;
    bool move_asked = false;  // once per connection
  };
  struct WantedMove {
    net::ConnectionId id;
    uint16_t to;
    const char* why;  // for the log
  };
  Traffic& traffic_of(net::ConnectionId source);
  // Under the broker lock, after `source`'s input made staged_ items from `first_item` on.
  void count_traffic(net::Worker& w, net::ConnectionId source, size_t first_item);
  void move_wanted_connections(net::Worker& w);
  void move_connection(net::Worker& from, net::ConnectionId id, uint16_t to, std::string_view why);
  // Output already routed to a moving connection follows it, ahead of what comes later.
  void reroute_routed(net::ConnectionId id, size_t from, size_t to);
  void take_arrivals(net::Worker& w);

  // Worker balance (rebalance.cpp, worker_balance.h): on the main thread,
  // each tick, the workers are sampled and one may be parked or unparked.
  BalanceSample sample_workers() const;
  void review_balance();
  void park_worker(size_t index);
  void unpark_worker(size_t index);
  std::vector<uint16_t> active_worker_indexes() const;  // those not parked
  void evacuate(size_t index);                          // asks a parked worker to move all its connections
  void retry_evacuations();
  static constexpr int kEvacuations = 8;  // tries per park, one per tick
  // On w's thread: moves every `every`th of its connections (all for 1) to `takers`, in turn.
  void share_connections(net::Worker& w, size_t every, const std::vector<uint16_t>& takers);

  void route_output(OutputBatch& from, const Outgoing& item);
  void forget_connection(net::ConnectionId id);
  // Hands each worker the output routed to its connections (see threading.md):
  // the caller takes its own list under the lock and applies it after; every
  // other worker with output gets one drain task.
  void take_routed(net::Worker& worker, OutputBatch& into);
  void post_drains();
  void drain_routed(net::Worker& worker);
  void apply_all(net::Worker& worker, OutputBatch& batch);
  void apply_output(net::Worker& worker, OutputBatch& batch, const Outgoing& item);
  // Retained backlogs (Broker::continue_retained): the owning worker keeps
  // the connections that asked, and continues each once its output is low.
  void note_drain_wanted(net::Worker& worker, net::ConnectionId id);
  void continue_drained(net::Worker& worker);

  void refuse_over_limit(net::Worker& w, net::ConnectionId id, int listener_tag,
                         const net::PeerAddress& peer);
  bool feed_refusal(net::Worker& w, net::ConnectionId id, std::span<const uint8_t> bytes);
  bool end_refusal(net::ConnectionId id);
  void expire_refusal(net::Worker& w, net::ConnectionId id);
  Status<std::string> reload_transports(const config::Config& next,
                                        std::vector<std::shared_ptr<const net::TransportStack>>& stacks);
  void tick();
  void shutdown();
  [[nodiscard]] Status<std::string> open_listeners();
  [[nodiscard]] Status<std::string> open_store();
  [[nodiscard]] Status<std::string> load_access_control();
  // Runs `call` on the broker under its lock, commits its records or leaves
  // them for the end of the caller's loop turn (turn_commits.h), then routes
  // or holds what it sent.
  template <typename Call>
  void with_broker(Call&& call);
  // with_broker(), told whether the call's records wait for the turn's commit.
  template <typename Call>
  void call_broker(Call&& call, bool deferred);
  bool defers_commit();
  void commit_turn();
  // Commits the broker's records and releases the output now durable; the broker lock is held.
  void commit_and_release();
  // Under the broker lock: what this worker read and deferred (turn_input.h).
  void hand_over_input(net::Worker& w);
  void release_staged();
  void release_durable(uint64_t durable);
  void on_durable(uint64_t sequence);
  void on_verdict(uint64_t connection, bool accepted);

  config::Config config_;
  ConfigSource config_source_;
  std::unique_ptr<FileAccessControl> access_;  // outlives the broker
  // Snapshots of the broker for the store, which uses it until it stops.
  std::unique_ptr<broker::BrokerSnapshotSource> snapshot_source_;
  std::unique_ptr<store::Store> store_;  // outlives the broker
  base::SpinningMutex broker_mutex_;
  std::unique_ptr<broker::Broker> broker_;  // guarded by broker_mutex_
  // Output of the running broker call; routed, or held for the store, when
  // the call returns. Guarded by broker_mutex_.
  OutputBatch staged_;
  uint64_t staged_sequence_ = 0;
  uint64_t last_hold_ = 0;    // the highest sequence any output waited for
  TurnCommits turn_commits_;  // per worker, each entry its own thread's
  HeldOutput held_;           // guarded by broker_mutex_
  // Output routed to each worker's connections, in the order the broker
  // produced it; only that worker takes it out. Guarded by broker_mutex_.
  std::vector<OutputBatch> routed_;
  std::vector<bool> drain_posted_;  // a drain task is on its way; guarded by broker_mutex_
  // Per worker, the connections waiting for their output to drain before
  // their next retained chunk; only that worker's thread touches its entry.
  std::vector<std::vector<net::ConnectionId>> drain_wanted_;
  // Connection affinity (affinity.cpp): deliveries counted per source
  // connection, by slot, and guarded by broker_mutex_ ...
  std::vector<Traffic> traffic_;
  // ... the moves that counting asked for, each worker's entry touched only
  // by its own thread ...
  std::vector<std::vector<WantedMove>> moves_wanted_;
  // ... and connections moved out, waiting for their new worker to take them
  // in before it takes their output (take_routed). Guarded by broker_mutex_.
  std::vector<std::vector<net::MovingConnection>> arrivals_;
  std::vector<Route> routes_;               // by net::connection_slot; guarded by broker_mutex_
  std::unique_ptr<WorkerBalance> balance_;  // main thread; null with one worker or worker_balance false
  // Workers not parked. With one, input goes to the broker as it is read, as
  // with a single worker: no lock to share, so nothing to batch. Safe to
  // change at any time: every broker call hands the pending input over first.
  std::atomic<size_t> active_workers_{1};
  std::vector<int> evacuations_left_;  // per worker; main thread
  std::vector<std::unique_ptr<net::Worker>> workers_;
  std::vector<std::unique_ptr<Listener>> listeners_;
  std::vector<uint16_t> bound_ports_;
  std::atomic<bool> stop_requested_{false};
  std::mutex refusals_mutex_;
  std::unordered_map<net::ConnectionId, Refusal> refusals_;  // guarded by refusals_mutex_
  std::atomic<size_t> refusal_count_{0};  // refusals_.size(), read without the lock on every on_data
  ServerCounters counters_;
  std::unique_ptr<admin::AdminServer> admin_;  // null without admin_socket
};

// The number of cores this process may run on (respects taskset).
int available_cores();

// The transport layers (PROXY, TLS, WebSocket) one listener's connections get;
// null for plain TCP. Fails with the reason (a certificate that does not load).
Result<std::shared_ptr<const net::TransportStack>, std::string> make_transports(
    const config::ListenerConfig& listener, uint32_t max_packet_size, const std::string& psk_file);

}  // namespace stellwerk::server

// The composition root: turns a Config into listeners, worker event loops and
// one Broker, and is the only place where net and broker meet.
//
// Threading (docs/design/threading.md): each connection lives on one Worker.
// Calls into the Broker are serialised by one mutex; what the broker sends to
// a connection owned by another worker is gathered per target worker and
// handed over in one posted batch at the end of the loop turn.
#pragma once

#include <atomic>
#include <deque>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "base/result.h"
#include "broker/broker.h"
#include "config/config.h"
#include "net/connection_handler.h"
#include "net/transport.h"
#include "server/access_control.h"
#include "store/store.h"

namespace stellwerk::net {
class Worker;
}

namespace stellwerk::server {

struct ServerCounters {
  std::atomic<uint64_t> dropped_slow_reader{0};  // QoS 0 dropped at a full output buffer
  std::atomic<uint64_t> refused_max_connections{0};
};

class Server final : public net::ConnectionHandler, public broker::Outbox {
 public:
  explicit Server(config::Config config);
  ~Server() override;

  // Opens every listener and starts the workers. Fails with a message when a
  // listener cannot be opened.
  [[nodiscard]] Status<std::string> start();
  // Serves until SIGTERM or SIGINT, then shuts down gracefully. SIGHUP is
  // logged (reload arrives with the auth work).
  void run();
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
  void send(broker::ConnectionId id, std::string bytes, bool droppable) override;
  void close(broker::ConnectionId id) override;
  void hold_until(uint64_t sequence) override;

 private:
  struct Outgoing {
    net::ConnectionId id;
    std::string bytes;
    bool droppable;
    bool close;
  };
  struct Listener {
    int fd;
    int64_t max_connections;
    std::shared_ptr<const net::TransportStack> transports;  // null = plain TCP
    bool identity_as_username = false;  // use_identity_as_username
    bool subject_as_username = false;   // use_subject_as_username
    std::atomic<int64_t> open{0};
  };
  struct HeldOutput {
    uint64_t sequence;  // released once the store made this durable
    Outgoing item;
  };

  void route_output(Outgoing item);
  void forget_connection(net::ConnectionId id);
  // Hands each worker the output routed to its connections (see threading.md).
  void deliver_routed(net::Worker* caller);
  void drain_routed(net::Worker& worker);
  void apply_output(net::Worker& worker, Outgoing& item);

  void tick();
  void shutdown();
  [[nodiscard]] Status<std::string> open_listeners();
  [[nodiscard]] Status<std::string> open_store();
  [[nodiscard]] Status<std::string> load_access_control();
  // Runs `call` on the broker under its lock, then routes or holds what it sent.
  template <typename Call>
  void with_broker(Call&& call);
  void release_staged();
  void release_durable(uint64_t durable);
  void on_durable(uint64_t sequence);
  void on_verdict(uint64_t connection, bool accepted);

  config::Config config_;
  std::unique_ptr<FileAccessControl> access_;  // outlives the broker
  std::unique_ptr<store::Store> store_;         // outlives the broker
  std::mutex broker_mutex_;
  std::unique_ptr<broker::Broker> broker_;  // guarded by broker_mutex_
  // Output of the running broker call; routed, or held for the store, when
  // the call returns. Guarded by broker_mutex_.
  std::vector<Outgoing> staged_;
  uint64_t staged_sequence_ = 0;
  uint64_t last_hold_ = 0;  // the highest sequence any output waited for
  std::deque<HeldOutput> held_;  // in send order; guarded by broker_mutex_
  // Output routed to each worker's connections, in the order the broker
  // produced it; only that worker takes it out. Guarded by broker_mutex_.
  std::vector<std::vector<Outgoing>> routed_;
  std::vector<bool> drain_posted_;  // a drain task is on its way; guarded by broker_mutex_
  // Which worker owns a connection; guarded by broker_mutex_.
  std::unordered_map<net::ConnectionId, int> owner_;
  // Which listener a connection came from; guarded by broker_mutex_.
  std::unordered_map<net::ConnectionId, int> listener_of_;
  std::vector<std::unique_ptr<net::Worker>> workers_;
  std::vector<std::unique_ptr<Listener>> listeners_;
  std::vector<uint16_t> bound_ports_;
  std::atomic<bool> stop_requested_{false};
  ServerCounters counters_;
};

// The number of cores this process may run on (respects taskset).
int available_cores();

}  // namespace stellwerk::server

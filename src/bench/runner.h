// The load generator: one thread, one edge-triggered epoll loop, every MQTT
// connection of the run non-blocking in it. Internal to the bench module; the
// entry point is run_benchmark() in bench/bench.h.
//
// DESIGN. A run goes through phases:
//   connecting  at most connect_concurrency connections are being set up at
//               once (TCP connect, CONNECT/CONNACK, SUBSCRIBE/SUBACK);
//   warm-up     publishers run; the last part may count the broker's
//               system calls (perf or strace, see syscall_counter.h);
//   measuring   counters, latency and the broker's CPU time are taken over
//               exactly this window (the connections scenario just holds);
//   draining    publishers stop; the run waits until every message sent has
//               reached every receiver, or the drain timeout;
//   closing     DISCONNECT and close.
// Publishers are closed-loop: a publisher may run at most `window` messages
// ahead of its oldest message that has not yet reached every receiver (and,
// at QoS 1/2, have no more unacknowledged packets than the broker's Receive
// Maximum), so the broker's queues stay short and nothing is dropped by its
// overload policy. A lost message therefore stalls its publisher, which the
// drain timeout then reports. With a
// rate, a publisher's messages are due at fixed times and stamped with the
// time they were due, so a stall shows in the latency instead of hiding.
//
// One loop turn: wait for events (timeout: the next due message or phase
// deadline), read and handle every readable socket, start more connections,
// move phases, let publishers send, then write every connection that got
// output in one write() each.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <queue>
#include <string>
#include <utility>
#include <vector>

#include "base/clock.h"
#include "base/result.h"
#include "bench/delivery_frame.h"
#include "bench/histogram.h"
#include "bench/id_queue.h"
#include "bench/options.h"
#include "bench/sockets.h"
#include "bench/stream_check.h"
#include "bench/summary.h"
#include "bench/syscall_counter.h"
#include "bench/templates.h"
#include "bench/tls_client.h"
#include "mqtt/codec.h"
#include "mqtt/packet.h"

namespace stellwerk::bench {

enum class Role : uint8_t { publisher, subscriber, idle };
enum class LinkState : uint8_t {
  queued,
  connecting,
  awaiting_connack,
  awaiting_suback,
  ready,
  failed,
  closed
};

// One MQTT connection of the generator.
struct Link {
  int fd = -1;
  Role role = Role::idle;
  LinkState state = LinkState::queued;
  uint32_t index = 0;          // among the links of its role
  bool dirty = false;          // has output and is in the flush list
  bool write_blocked = false;  // the socket buffer was full; EPOLLOUT resumes
  bool peer_shut = false;      // the broker half-closed: read on to EOF
  TlsSession tls;              // set when the run uses TLS
  std::string input;           // the start of a frame that is not complete yet
  std::string output;
  size_t output_written = 0;
  TimePoint last_sent;
};

struct Publisher {
  uint32_t link = 0;
  PublishTemplate message;
  uint64_t sent = 0;              // sequence number of the next message
  uint64_t oldest_pending = 0;    // every message before it reached every receiver
  std::vector<uint32_t> pending;  // per ring slot (sequence & mask): receivers still to reach
  IdQueue awaiting_ack;           // QoS 1: PUBACK; QoS 2: PUBREC
  IdQueue awaiting_complete;      // QoS 2: PUBCOMP
  uint16_t next_packet_id = 1;
  uint32_t send_quota = 65535;  // the broker's Receive Maximum (v5)
  TimePoint next_due;           // with a rate: when the next message is due
  bool queued = false;          // in the ready list or the due heap
};

struct Subscriber {
  uint32_t link = 0;
  uint32_t first_source = 0;
  std::vector<StreamCheck> streams;  // one per source publisher
};

enum class Phase { connecting, warmup, measuring, draining, closing, done };

class Runner {
 public:
  explicit Runner(BenchOptions options);
  ~Runner();
  Runner(const Runner&) = delete;
  Runner& operator=(const Runner&) = delete;

  // Runs every phase. Fails when setup fails (address, epoll, connections in
  // a traffic scenario); otherwise the summary says what happened.
  Result<Summary, std::string> run();

 private:
  struct Counters {
    uint64_t published = 0;
    uint64_t delivered = 0;  // distinct
    uint64_t duplicates = 0;
    uint64_t out_of_order = 0;
    uint64_t foreign = 0;
    uint64_t protocol_errors = 0;
  };
  struct Snapshot {
    TimePoint at;
    Counters counters;
    std::optional<double> broker_cpu;
    std::optional<double> own_cpu;
    std::optional<double> broker_wait;  // run-queue wait, see proc_stats.h
    std::optional<double> own_wait;
  };
  using Due = std::pair<TimePoint, uint32_t>;

  // runner.cpp: setup, the loop, phases, progress
  Status<std::string> set_up();
  void create_links();
  void turn();
  std::optional<TimePoint> next_deadline() const;
  void advance_phase();
  void finish_connecting();
  void begin_traffic();
  void maybe_start_syscall_probe();
  void finish_syscall_probe();
  void begin_measuring();
  void end_measuring();
  bool drained() const;
  void close_all();
  Snapshot snapshot() const;
  void keep_alive_sweep();
  void print_progress();
  Summary summarize() const;
  void fill_check(Summary& summary) const;

  // runner_io.cpp: connections and bytes
  void start_connects();
  void start_connect(Link& link);
  void on_event(uint32_t link_index, uint32_t events);
  void finish_connect(Link& link, bool failed);
  void read_from(Link& link);
  void take_frames(Link& link, const uint8_t* data, size_t size);
  void fail_link(Link& link, const std::string& why);
  void mark_dirty(Link& link);
  void flush();
  void write_out(Link& link);
  void read_tls(Link& link);
  void write_tls(Link& link);
  void close_link(Link& link);

  // runner_mqtt.cpp: packets
  void send_connect(Link& link);   // queued, written with the turn's output
  void queue_connect(Link& link);  // appended to the link's output only
  void handle_frame(Link& link, std::span<const uint8_t> frame);
  void on_connack(Link& link, const mqtt::Connack& connack);
  void on_suback(Link& link, const mqtt::Suback& suback);
  void handle_publish(Link& link, std::span<const uint8_t> frame);
  void on_publish(Link& link, const DeliveryFrame& publish);
  void on_ack(Link& link, const mqtt::Ack& ack);
  void on_publisher_ack(Publisher& publisher, const mqtt::Ack& ack);
  void link_ready(Link& link);
  void record_delivery(Subscriber& subscriber, const Stamp& stamp);

  // runner_publish.cpp: publishers
  bool can_send(const Publisher& publisher) const;
  void make_ready(uint32_t publisher);
  void pump_publishers();
  void send_from(uint32_t publisher);
  void emit(Publisher& publisher, uint32_t index, TimePoint stamp_time);
  uint16_t take_packet_id(Publisher& publisher);
  void complete(uint32_t publisher, uint64_t sequence);
  uint64_t in_flight() const;

  BenchOptions options_;
  Plan plan_;
  std::string client_id_prefix_;
  Endpoint target_;
  std::vector<Endpoint> sources_;
  std::unique_ptr<TlsClientContext> tls_;  // null: plain TCP
  int epoll_fd_ = -1;
  std::vector<uint8_t> read_buffer_;
  std::vector<Link> links_;
  std::vector<Publisher> publishers_;
  std::vector<Subscriber> subscribers_;
  std::vector<uint32_t> dirty_;
  std::vector<uint32_t> ready_, ready_batch_;
  std::priority_queue<Due, std::vector<Due>, std::greater<Due>> due_;
  uint64_t ring_mask_ = 0;
  Duration send_interval_{};

  // templates shared by every link
  AckTemplate puback_, pubrec_, pubrel_, pubcomp_;
  std::string pingreq_, disconnect_;

  Phase phase_ = Phase::connecting;
  TimePoint now_;
  TimePoint started_, phase_deadline_, next_progress_;
  uint32_t next_to_connect_ = 0;
  uint32_t connecting_ = 0;  // between connect() and ready
  uint32_t links_ready_ = 0, links_failed_ = 0, links_dropped_ = 0;
  std::string first_failure_;
  TimePoint connects_done_;
  Snapshot setup_start_, setup_end_;  // around connecting
  Counters counters_;
  LatencyHistogram latency_;
  bool measuring_ = false;

  std::unique_ptr<SyscallCounter> syscall_counter_;
  std::string syscall_note_;
  std::optional<TimePoint> probe_start_at_;  // when the system call count starts
  TimePoint probe_started_;
  uint64_t probe_delivered_ = 0;
  std::optional<double> syscalls_per_second_, probe_delivery_rate_;

  std::optional<uint64_t> rss_before_, rss_at_end_;
  Snapshot measure_start_, measure_end_, last_progress_;
  bool drained_ = true;
  bool interrupted_ = false;
};

}  // namespace stellwerk::bench

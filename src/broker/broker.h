// The routing core: joins the protocol state machine, sessions, the topic
// tree and the retained store. It sees a connection only as an id and reaches
// it only through an Outbox, so it never includes net code and can be driven
// by tests with a fake clock and a recording Outbox.
//
// A Broker is not thread-safe: the server serialises calls into it (see
// docs/design/threading.md). Every call takes `now`.
#pragma once

#include <tsl/robin_map.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "base/clock.h"
#include "broker/access.h"
#include "broker/deadline_queue.h"
#include "broker/publish_cache.h"
#include "broker/stats.h"
#include "protocol/connection.h"
#include "session/session.h"
#include "session/session_table.h"
#include "topics/retained_tree.h"
#include "topics/subscription_tree.h"

namespace stellwerk::store {
class Batch;
class Store;
struct RecoveredState;
}  // namespace stellwerk::store

namespace stellwerk::broker {

using ConnectionId = uint64_t;

// How the broker reaches connections. Implemented by the server.
class Outbox {
 public:
  virtual ~Outbox() = default;
  // Bytes for connection `id`, to be written in call order. `droppable` marks a
  // QoS 0 PUBLISH the transport may drop when the client's output is over
  // its limit (a client that does not read).
  // The bytes are copied before send() returns.
  virtual void send(ConnectionId id, std::string_view bytes, bool droppable) = 0;
  // Writes what is queued for `id`, then closes it. No on_close follows.
  virtual void close(ConnectionId id) = 0;
  // Everything sent during the current broker call depends on store record
  // `sequence`: it must not reach the network before that record is durable.
  // With deferred commits (Broker::defer_commits) the record may not be
  // committed yet: whoever drives the broker commits it later.
  virtual void hold_until(uint64_t sequence) { (void)sequence; }
  // Call Broker::continue_retained(id) once `id`'s unwritten output is low:
  // the broker has more retained messages for it (retained_backlog.cpp).
  // One call asks for one continuation; asking again before it came is
  // harmless.
  virtual void want_drain(ConnectionId id) { (void)id; }
};

struct BrokerConfig {
  protocol::Limits limits;
  session::QueueLimits queue;
  uint16_t max_keepalive = 65535;
  bool allow_anonymous = true;
  bool retain_available = true;
  std::optional<uint32_t> persistent_client_expiration;  // seconds; nullopt = never
  Duration connect_timeout = std::chrono::seconds(10);
  uint32_t sys_interval = 10;  // seconds; 0 = no $SYS
  std::string version = "stellwerk";
  // Log each connect and normal disconnect (mosquitto's connection_messages).
  // Refusals and protocol errors are always logged.
  bool connection_messages = true;
};

class Broker {
 public:
  // `access` may be null (everything allowed); it must outlive the broker.
  Broker(BrokerConfig config, Outbox& outbox, TimePoint now, AccessControl* access = nullptr);
  ~Broker();
  Broker(const Broker&) = delete;
  Broker& operator=(const Broker&) = delete;

  void on_open(ConnectionId id, std::string peer, TimePoint now);
  void on_data(ConnectionId id, std::span<const uint8_t> bytes, TimePoint now);
  // The network connection ended without the broker asking (peer close or
  // I/O error): an abnormal end, so the will goes out.
  void on_close(ConnectionId id, std::string_view why, TimePoint now);
  // Deadlines: keep-alive, CONNECT timeout, delayed wills, session expiry, $SYS.
  void tick(TimePoint now);
  // The transport authenticated this connection (TLS client certificate or
  // PSK identity with use_identity_as_username): its CONNECT's user name is
  // replaced by `username` and no password is checked.
  void set_transport_username(ConnectionId id, std::string username);
  // The real peer named by a PROXY protocol header: log lines show it
  // instead of the proxy's address.
  void set_peer(ConnectionId id, std::string peer);
  // The verdict for an authentication that AccessControl left pending.
  // Packets the client sent after CONNECT wait in its buffer until then.
  void complete_authentication(ConnectionId id, bool accepted, TimePoint now);
  // A configuration reload: allow_anonymous, connection_messages,
  // max_keepalive, persistent_client_expiration and sys_interval apply from the
  // next event on. The other settings were promised to connected clients in
  // their CONNACK (limits) or shape stored state (queues): they stay.
  void reconfigure(const BrokerConfig& config);
  // The connection's output drained after want_drain(id): sends the next
  // chunk of its retained backlog. Nothing for a connection that is gone.
  void continue_retained(ConnectionId id, TimePoint now);
  // Graceful stop: v5 clients get DISCONNECT 0x8B, every connection is closed.
  void shutdown(TimePoint now);

  // Records what the broker acknowledges in `store` from now on (null = no
  // persistence). The store must outlive the broker.
  void attach_store(store::Store* store) { store_ = store; }
  // Rebuilds retained messages and sessions recovered from the store.
  void restore(const store::RecoveredState& state, TimePoint now);
  // By default each public call commits the records it made before it
  // returns. Deferred, calls only collect them and hold their output for the
  // sequence those records will get; the caller must then commit_records()
  // soon (the server does once per worker loop turn, and after each call
  // from elsewhere), or that output waits for ever.
  void defer_commits(bool deferred) { defer_commits_ = deferred; }
  // Commits every record collected so far, whichever call made it, and holds
  // what the current call sent for it. Nothing to commit: nothing happens.
  void commit_records();

  // ---- snapshots of the running broker (snapshot.cpp), a slice at a time
  // under the broker lock (store/snapshot_source.h). Where the walk is.
  struct SnapshotCursor {
    std::optional<std::string> after_topic;  // the last retained topic walked
    bool retained_done = false;
    bool sessions_listed = false;
    std::vector<std::string> client_ids;  // the persistent sessions when the walk reached them, sorted
    size_t next_session = 0;
    // Entries walked so far: a retained topic, a session, or one of its
    // subscriptions, queue entries, in-flight entries or inbound ids. A
    // slice stops at 1000 of them, but never within a session.
    size_t walked = 0;
  };
  // Adds to `out` the records of the next slice of the durable state: what
  // the log's records describe, and nothing else (retained messages but
  // $SYS, persistent sessions with their subscriptions, QoS 1/2 queue
  // entries, in-flight entries and inbound QoS 2 ids). Retained messages in
  // topic order first, then whole sessions; each slice is bounded so the
  // lock is held briefly. False when the walk is over (nothing added).
  bool snapshot_slice(SnapshotCursor& cursor, store::Batch& out) const;

  const Stats& stats() const { return stats_; }
  size_t connection_count() const { return clients_.size(); }
  size_t session_count() const { return sessions_.size(); }
  size_t retained_count() const { return retained_.size(); }

  // ---- retained-state administration (retained_admin.cpp), for `stellwerk
  // ctl`. Each call is one chunk of a longer job: the server makes it under
  // the broker lock and pages on with a cursor, so the lock is held briefly.
  // `filter` is a valid non-shared topic filter, or nullopt for every topic
  // kept as state ('$' topics included, $SYS excluded). Messages travel as
  // retained PUBLISH values whose message_expiry_interval is the time left.
  // Up to `limit` unexpired retained messages in topic order (level by level),
  // after topic `after`; without `with_payload` only their topics.
  std::vector<mqtt::Publish> retained_page(const std::optional<std::string>& filter,
                                           const std::optional<std::string>& after, size_t limit,
                                           bool with_payload, TimePoint now) const;
  // Clears each topic's retained message and records that in the store, as
  // a client's empty retained PUBLISH does, but delivers nothing to
  // subscribers. Returns how many topics had one.
  size_t clear_retained(const std::vector<std::string>& topics);
  // Each message (a valid topic name; an empty payload clears) becomes its
  // topic's retained message, recorded in the store. Nothing is delivered:
  // subscribers see it when they next subscribe.
  void set_retained(std::vector<mqtt::Publish> messages, TimePoint now);

 private:
  struct Client;
  struct SubscriptionValue {
    mqtt::SubscriptionOptions options;
    uint32_t identifier = 0;
  };

  // connection lifecycle (broker.cpp)
  void handle_packet(Client& client, mqtt::Packet&& packet, TimePoint now);
  void process_input(Client& client, TimePoint now);
  void handle_connect(Client& client, mqtt::Connect&& connect, TimePoint now);
  void finish_connect(Client& client, mqtt::Connect&& connect, TimePoint now);
  bool may_read(const session::Session& session, std::string_view topic) const;
  ClientIdentity identity_of(const Client& client) const;
  std::optional<mqtt::ReasonCode> check_connect(const mqtt::Connect& connect) const;
  uint16_t effective_keep_alive(const mqtt::Connect& connect) const;
  session::Session& attach_session(Client& client, const mqtt::Connect& connect, bool& present,
                                   TimePoint now);
  void send_connack(Client& client, const mqtt::Connect& connect, bool present, uint16_t keep_alive,
                    bool id_assigned);
  void refuse_connect(Client& client, mqtt::Version version, mqtt::ReasonCode reason, std::string_view why,
                      mqtt::Properties properties = {});
  void handle_disconnect(Client& client, const mqtt::Disconnect& disconnect, TimePoint now);
  void take_over(ConnectionId old_connection, TimePoint now);
  void fail_connection(Client& client, mqtt::ReasonCode reason, std::string_view why, TimePoint now);
  void end_connection(ConnectionId id, bool publish_will, TimePoint now);
  void detach_session(session::Session& session, bool publish_will, TimePoint now);
  void end_session(session::Session& session, TimePoint now);
  void publish_will(session::Session& session, TimePoint now);
  // deadlines: only what is due is looked at (deadline_queue.h)
  void check_deadlines(TimePoint now);
  void file_connection_deadline(Client& client);
  void file_session_deadline(const session::Session& session);
  void expire_connections(TimePoint now);
  void expire_sessions(TimePoint now);
  std::string assign_client_id();

  // enhanced authentication and re-authentication (enhanced_auth.cpp)
  void begin_enhanced_auth(Client& client, mqtt::Connect&& connect, TimePoint now);
  void handle_auth(Client& client, const mqtt::Auth& auth, TimePoint now);
  void continue_connect_exchange(Client& client, std::string_view client_data, TimePoint now);
  void continue_reauthentication(Client& client, std::string_view client_data, TimePoint now);
  void refuse_authentication(Client& client, mqtt::ReasonCode reason, std::string server_data,
                             std::string_view why);
  void fail_auth_protocol(Client& client, std::string_view why, TimePoint now);
  void send_auth(Client& client, mqtt::ReasonCode reason, std::string server_data);

  // routing (routing.cpp)
  // `publish` borrows the client's input (fast path) or an mqtt::Publish
  // (slow path); the message made from it copies what it keeps.
  void handle_publish(Client& client, mqtt::PublishFrame& publish, TimePoint now);
  session::MessagePtr make_message(Client& client, mqtt::PublishFrame& publish, TimePoint now) const;
  size_t route(const session::MessagePtr& message, TimePoint now);
  void update_retained(const session::MessagePtr& message);
  void handle_ack(Client& client, const mqtt::Ack& ack, TimePoint now);
  void handle_subscribe(Client& client, mqtt::Subscribe&& subscribe, TimePoint now);
  struct SubscribeOutcome {
    mqtt::ReasonCode reason;
    bool is_new;
  };
  SubscribeOutcome subscribe_one(Client& client, const mqtt::TopicRequest& request, uint32_t identifier);
  void send_retained(session::Session& session, const mqtt::TopicRequest& request, bool is_new,
                     uint32_t identifier, TimePoint now);
  void handle_unsubscribe(Client& client, mqtt::Unsubscribe&& unsubscribe);
  // retained backlogs (retained_backlog.cpp): what paces the next chunk, the
  // client's output draining or its acknowledgements freeing the window.
  enum class BacklogPace { output, acks };
  void send_backlog(Client& client, session::Session& session, BacklogPace pace, TimePoint now);
  void fetch_retained(session::RetainedBacklog& backlog) const;
  session::MessagePtr current_retained(const session::Session& session, const session::Message& fetched,
                                       TimePoint now) const;
  void send_backlog_message(Client& client, session::Session& session, session::Delivery delivery,
                            TimePoint now);
  size_t send_window(const Client& client) const;
  // Moves from `delivery` only when the session keeps it (queued or in
  // flight): route() hands the same delivery to every matching session.
  void deliver(session::Session& session, session::Delivery& delivery, TimePoint now);
  void pump(session::Session& session, TimePoint now);
  // pump() for a session whose online client the caller has found already.
  void pump_to(Client& client, session::Session& session, TimePoint now);
  // deliver() for a delivery the session would send at once
  // (Session::sends_at_once). Moves from `delivery` only at QoS 1 and 2.
  void send_at_once(Client& client, session::Session& session, session::Delivery& delivery,
                    store::Batch* records, TimePoint now);
  // A QoS 0 PUBLISH is droppable at a full output unless `paced`: a retained
  // backlog's messages are sent only as the output drains.
  void send_publish(Client& client, const session::Delivery& delivery, uint16_t packet_id, bool dup,
                    TimePoint now, bool paced = false);
  // The fast path of send_publish: a copy of the routed message's shared
  // encoding (publish_cache.h). False when this delivery needs its own.
  bool send_shared_publish(Client& client, const session::Delivery& delivery, uint16_t packet_id, bool dup,
                           bool paced);
  void count_publish_sent(size_t bytes);
  void resend_inflight(Client& client, session::Session& session, TimePoint now);
  void remove_subscriptions(session::Session& session);

  // output helpers
  void send(Client& client, mqtt::Packet packet);
  void send_disconnect(Client& client, mqtt::ReasonCode reason, std::string_view why);

  // $SYS (sys.cpp)
  void publish_sys(TimePoint now);
  void publish_store_sys(TimePoint now);
  void publish_sys_value(const std::string& topic, std::string value, TimePoint now);

  // persistence (persistence.cpp): the records not yet committed
  store::Batch* batch();                                     // null without a store
  store::Batch* batch_for(const session::Session& session);  // null unless stored
  void commit_batch();  // at the end of each public call: commits or defers
  void record_session(const session::Session& session);
  void record_completed(const session::Session& session, uint16_t packet_id);

  Client* find_client(ConnectionId id);
  session::Session* find_session(const std::string& client_id);
  Client* online_client(const session::Session& session);

  using SessionsById = tsl::robin_map<session::SessionId, session::Session*>;  // ids are dense counters
  // Which sessions have a connection attached. The mark is on the session
  // itself (Session::connection()), so no table per connection is needed;
  // this answers by session id, as routing asks, and keeps the count.
  class OnlineSessions {
   public:
    explicit OnlineSessions(const SessionsById& by_id) : by_id_(by_id) {}
    size_t count(session::SessionId id) const {  // 1 when online, else 0
      auto it = by_id_.find(id);
      return it != by_id_.end() && it->second->online() ? 1 : 0;
    }
    size_t size() const { return online_; }
    void attach(session::Session& session, ConnectionId connection);
    void detach(session::Session& session);

   private:
    const SessionsById& by_id_;
    size_t online_ = 0;
  };

  BrokerConfig config_;
  Outbox& outbox_;
  AccessControl* access_;
  store::Store* store_ = nullptr;
  std::unique_ptr<store::Batch> batch_;
  bool defer_commits_ = false;
  TimePoint started_at_;
  TimePoint next_sys_at_;
  // Looked up for every packet: open addressing on the id (a power-of-two
  // mask, no division, no node to chase) costs one probe where the ids are
  // the net layer's dense slot numbers.
  tsl::robin_map<ConnectionId, std::unique_ptr<Client>> clients_;
  session::SessionTable sessions_;  // owns every session, by client id
  SessionsById sessions_by_id_;
  OnlineSessions online_{sessions_by_id_};
  topics::SubscriptionTree<SubscriptionValue> subscriptions_;
  topics::RetainedTree<session::MessagePtr, topics::TopicOfPointee> retained_;
  std::unordered_map<std::string, std::string> last_sys_values_;
  PublishCache publish_cache_;  // valid while route() delivers one message
  // A PUBLISH is encoded here and copied by the Outbox: no string per delivery.
  std::string output_scratch_;
  DeadlineQueue<ConnectionId> connection_deadlines_;
  DeadlineQueue<session::SessionId> session_deadlines_;
  // The time each session with a deadline is filed for (connections keep
  // theirs in Client): only offline sessions have one.
  std::unordered_map<session::SessionId, TimePoint> session_deadline_filed_;
  session::SessionId next_session_id_ = 1;
  uint64_t next_assigned_id_ = 1;
  Stats stats_;
};

}  // namespace stellwerk::broker

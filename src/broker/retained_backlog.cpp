// Retained messages for a new subscription, sent in chunks.
//
// A SUBSCRIBE to `#` over a million retained topics used to collect every
// match under the broker lock and push them all into the session queue,
// which dropped what did not fit, while other clients waited for seconds.
// Now the SUBSCRIBE leaves a backlog in the session: the filter, its options
// and a cursor, the last topic fetched. Messages are pulled from the retained
// tree in topic order (RetainedTree::match_after), a batch at a time, and
// sent as the client takes them:
//  - QoS 1/2 while the in-flight window has room; acknowledgements pump more;
//  - QoS 0 (and any QoS, in chunks) when the server reports that the
//    connection's unwritten output is low (Outbox::want_drain, then
//    continue_retained). Such a QoS 0 message is never dropped at a full
//    output: it was sent only because the output had room.
// Each call sends one chunk at most, so the lock is held briefly and other
// clients are served between chunks. Retained messages bypass the session
// queue and its limits: they are state the client asked for, pulled from the
// tree, not news that must be buffered.
//
// What the client sees: each matching topic once, in topic order, as it is
// when it is sent. A topic changed since the SUBSCRIBE goes out with its
// current message; a topic cleared meanwhile is skipped; a topic retained
// after the cursor passed it is not sent as retained (its PUBLISH reached the
// subscription as it happened). Messages published after the SUBSCRIBE may
// arrive between retained ones. The backlog ends with the subscription, the
// connection or the session; it is not stored, and a resumed session does
// not continue it, because retained messages are sent when a subscription is
// made (v5 section 3.8.4), not when a session comes back.
#include <algorithm>

#include "broker/broker.h"
#include "broker/client.h"
#include "mqtt/validate.h"
#include "store/store.h"

namespace stellwerk::broker {
namespace {

using mqtt::QoS;

// Messages fetched from the tree in one walk. A walk pays for scanning the
// widest level it crosses (a million siblings under one level take a few
// milliseconds), so fetching more per walk makes a huge backlog cheaper.
constexpr size_t kFetchBatch = 2000;
// At most this many messages, or about this many bytes, per chunk.
constexpr size_t kChunkMessages = 1000;
constexpr size_t kChunkBytes = 1024 * 1024;

QoS lower_qos(QoS a, QoS b) { return static_cast<uint8_t>(a) < static_cast<uint8_t>(b) ? a : b; }

}  // namespace

void Broker::send_retained(session::Session& session, const mqtt::TopicRequest& request, bool is_new,
                           uint32_t identifier, TimePoint now) {
  using mqtt::RetainHandling;
  const RetainHandling handling = request.options.retain_handling;
  if (handling == RetainHandling::do_not_send) return;
  if (handling == RetainHandling::send_if_new && !is_new) return;
  // Shared subscriptions get no retained messages (v5 section 4.8.2).
  if (mqtt::parse_shared_filter(request.filter)) return;
  session::RetainedBacklog backlog;
  backlog.filter = request.filter;
  backlog.max_qos = request.options.max_qos;
  backlog.identifier = identifier;
  session.add_retained_backlog(std::move(backlog));
  if (Client* client = online_client(session)) send_backlog(*client, session, BacklogPace::output, now);
}

void Broker::continue_retained(ConnectionId id, TimePoint now) {
  Client* client = find_client(id);
  // Gone, or not attached to a session yet: nothing to continue.
  if (!client || !client->session || online_client(*client->session) != client) return;
  if (client->session->has_retained_backlog())
    send_backlog(*client, *client->session, BacklogPace::output, now);
  commit_batch();
}

void Broker::send_backlog(Client& client, session::Session& session, BacklogPace pace, TimePoint now) {
  const size_t window = send_window(client);
  size_t sent = 0;
  size_t bytes = 0;
  while (session::RetainedBacklog* backlog = session.next_retained_backlog()) {
    if (backlog->fetched.empty() && !backlog->walk_done) fetch_retained(*backlog);
    if (backlog->fetched.empty()) {
      session.finish_retained_backlog();
      continue;
    }
    if (sent >= kChunkMessages || bytes >= kChunkBytes) {
      outbox_.want_drain(client.id);  // the rest when the output has drained
      return;
    }
    session::MessagePtr message = current_retained(session, *backlog->fetched.front(), now);
    if (!message) {
      backlog->fetched.pop_front();
      continue;
    }
    const QoS qos = lower_qos(message->qos(), backlog->max_qos);
    // Only the output can pace QoS 0; it asks for the continuation.
    if (qos == QoS::at_most_once && pace == BacklogPace::acks) {
      outbox_.want_drain(client.id);
      return;
    }
    // Window full: the acknowledgements pump the rest.
    if (qos != QoS::at_most_once && session.inflight_count() >= window) return;
    backlog->fetched.pop_front();
    // [MQTT-3.3.1-8]: retained messages sent on subscribe carry RETAIN 1.
    session::Delivery delivery{std::move(message), qos, true, {}};
    if (backlog->identifier) delivery.subscription_ids.push_back(backlog->identifier);
    bytes += delivery.message->footprint();
    ++sent;
    send_backlog_message(client, session, std::move(delivery), now);
  }
}

void Broker::fetch_retained(session::RetainedBacklog& backlog) const {
  std::optional<std::string_view> after;
  if (backlog.cursor) after = *backlog.cursor;
  size_t fetched = 0;
  // '$' topics only for a filter that names them [MQTT-4.7.2-1].
  retained_.match_after(backlog.filter, after, /*dollar_topics=*/false,
                        [&](std::string_view, const session::MessagePtr& message) {
                          backlog.fetched.push_back(message);
                          return ++fetched < kFetchBatch;
                        });
  if (fetched < kFetchBatch) backlog.walk_done = true;
  if (fetched > 0) backlog.cursor = backlog.fetched.back()->topic();
}

session::MessagePtr Broker::current_retained(const session::Session& session, const session::Message& fetched,
                                             TimePoint now) const {
  // The topic may have changed or been cleared since it was fetched: the
  // client gets the state as it is now.
  const session::MessagePtr* current = retained_.find(fetched.topic());
  if (!current || (*current)->expired(now)) return nullptr;
  if (!may_read(session, (*current)->topic())) return nullptr;
  return *current;
}

void Broker::send_backlog_message(Client& client, session::Session& session, session::Delivery delivery,
                                  TimePoint now) {
  if (delivery.qos == QoS::at_most_once) {
    send_publish(client, delivery, 0, false, now, /*paced=*/true);
    return;
  }
  session::Inflight& entry = session.start_inflight(std::move(delivery));
  // Not from the queue: the store gets the whole entry.
  if (store::Batch* records = batch_for(session)) records->put_inflight(session.client_id(), entry);
  send_publish(client, entry.delivery, entry.packet_id, false, now);
}

}  // namespace stellwerk::broker

// Publish and subscribe: routing a message to the sessions whose
// subscriptions match, the QoS 1/2 flows in both directions, retained
// messages, and the per-session queue that respects the client's window.
#include <algorithm>
#include <type_traits>
#include <utility>
#include <variant>

#include "base/log.h"
#include "broker/broker.h"
#include "broker/client.h"
#include "mqtt/validate.h"
#include "store/store.h"

namespace stellwerk::broker {

using mqtt::QoS;
using mqtt::ReasonCode;

namespace {

QoS min_qos(QoS a, QoS b) { return static_cast<uint8_t>(a) < static_cast<uint8_t>(b) ? a : b; }

// Seconds left of a message's expiry interval, rounded up so that a
// forwarded message never claims less time than it has [MQTT-3.3.2-6].
uint32_t remaining_seconds(TimePoint expires_at, TimePoint now) {
  const auto left = std::chrono::ceil<std::chrono::seconds>(expires_at - now).count();
  return static_cast<uint32_t>(std::max<int64_t>(left, 1));
}

}  // namespace

// ---------------------------------------------------------------- inbound PUBLISH

session::MessagePtr Broker::make_message(Client& client, mqtt::PublishFrame& publish, TimePoint now) const {
  mqtt::Properties* properties = publish.properties ? &*publish.properties : nullptr;
  return session::make_message(publish.topic, publish.payload, publish.qos, publish.retain, properties, now,
                               client.session ? client.session->id() : 0);
}

void Broker::handle_publish(Client& client, mqtt::PublishFrame& publish, TimePoint now) {
  ++stats_.publish_received;
  if (publish.retain && !config_.retain_available) {
    fail_connection(client, ReasonCode::retain_not_supported, "retained PUBLISH while retain is off", now);
    return;
  }
  if (publish.properties && !publish.properties->subscription_identifiers.empty()) {
    fail_connection(client, ReasonCode::protocol_error,
                    "PUBLISH from a client carries a Subscription Identifier [MQTT-3.3.4-6]", now);
    return;
  }
  session::Session& session = *client.session;
  const QoS qos = publish.qos;
  const uint16_t packet_id = publish.packet_id;
  if (qos == QoS::exactly_once && !session.begin_inbound_qos2(packet_id)) {
    // A resent QoS 2 PUBLISH whose first copy was delivered: acknowledge only.
    send(client, mqtt::Ack{mqtt::PacketType::pubrec, packet_id});
    return;
  }
  if (qos == QoS::exactly_once) {
    if (store::Batch* records = batch_for(session)) records->add_inbound_qos2(session.client_id(), packet_id);
  }
  if (qos == QoS::exactly_once && session.inbound_qos2_count() > config_.limits.receive_maximum) {
    fail_connection(client, ReasonCode::receive_maximum_exceeded, "more QoS 2 in flight than Receive Maximum",
                    now);
    return;
  }
  ReasonCode reason = ReasonCode::success;
  // Clients may not write into the broker's own $SYS tree, nor where the ACL
  // denies: the message is acknowledged (v5: with 0x87) and dropped, as
  // mosquitto does.
  const bool allowed = !publish.topic.starts_with("$SYS") &&
                       (!access_ || access_->can_publish(identity_of(client), publish.topic));
  if (!allowed) {
    log::debug("Client {} may not publish to {}: dropped.", client.client_id, publish.topic);
    reason = ReasonCode::not_authorized;
  } else if (route(make_message(client, publish, now), now) == 0) {
    reason = ReasonCode::no_matching_subscribers;
  }
  if (qos == QoS::at_least_once) send(client, mqtt::Ack{mqtt::PacketType::puback, packet_id, reason});
  if (qos == QoS::exactly_once) send(client, mqtt::Ack{mqtt::PacketType::pubrec, packet_id, reason});
}

void Broker::update_retained(const session::MessagePtr& message) {
  // An empty retained payload clears the topic and is not stored [MQTT-3.3.1-10].
  if (message->payload().empty()) {
    retained_.erase(message->topic());
  } else {
    retained_.set(message->topic(), message);
  }
  // $SYS values are the broker's own, rebuilt after a restart: not stored.
  store::Batch* records = message->topic().starts_with("$SYS") ? nullptr : batch();
  if (!records) return;
  if (message->payload().empty()) {
    records->clear_retained(message->topic());
  } else {
    records->retain(message);
  }
}

namespace {

// Trivially copyable and 16 bytes, because route() sorts these: with two
// workers the subscriptions of one filter come in another order than the
// session ids, and moving targets that each held a vector of identifiers
// showed in fan-out profiles (std::swap of targets 0.8 % of the worker).
struct RouteTarget {
  session::SessionId session = 0;
  uint32_t identifier = 0;  // v5 Subscription Identifier, 0 = none
  QoS qos = QoS::at_most_once;
  bool retain_as_published = false;
  bool shared = false;
};
static_assert(std::is_trivially_copyable_v<RouteTarget> && sizeof(RouteTarget) == 16);

// The targets vector of route() keeps its capacity from one message to the
// next: a message to one subscriber should cost no allocation for it. Taken
// out while in use, so a nested route() just starts with an empty one.
thread_local std::vector<RouteTarget> spare_route_targets;

}  // namespace

size_t Broker::route(const session::MessagePtr& message, TimePoint now) {
  if (message->retain()) update_retained(message);
  using Target = RouteTarget;
  std::vector<Target> targets = std::move(spare_route_targets);
  targets.clear();
  const auto eligible = [&](topics::SubscriberId id) { return online_.count(id) > 0; };
  subscriptions_.match(
      message->topic(),
      [&](topics::SubscriberId id, const SubscriptionValue& value, std::string_view group) {
        // [MQTT-3.8.3-3]: No Local keeps a client's own messages from it.
        if (value.options.no_local && id == message->publisher_session() && group.empty()) return;
        targets.push_back(Target{id, value.identifier, value.options.max_qos,
                                 value.options.retain_as_published, !group.empty()});
      },
      eligible);
  // Overlapping subscriptions of one session get one copy at the highest QoS,
  // with every matching subscription identifier [MQTT-3.3.4-2], [MQTT-3.3.4-3].
  const auto by_session = [](const Target& a, const Target& b) {
    return std::tie(a.session, a.shared) < std::tie(b.session, b.shared);
  };
  if (!std::is_sorted(targets.begin(), targets.end(), by_session)) {
    std::sort(targets.begin(), targets.end(), by_session);
  }
  size_t delivered = 0;
  publish_cache_.begin(message.get());
  // One delivery serves every session: deliver() takes it over only where a
  // session keeps it (queued or in flight). A QoS 0 message sent at once so
  // costs no update of the message's reference count per subscriber, an
  // atomic add and subtract (micro_fanout, QoS 0: 39 -> 24 ns per delivery).
  session::Delivery delivery;
  for (size_t i = 0; i < targets.size();) {
    const Target& first = targets[i];
    QoS qos = first.qos;
    bool retain_as_published = first.retain_as_published;
    size_t end = i + 1;
    for (; end < targets.size() && targets[end].session == first.session && !first.shared &&
           !targets[end].shared;
         ++end) {
      qos = std::max(qos, targets[end].qos);
      retain_as_published |= targets[end].retain_as_published;
    }
    const size_t begin = std::exchange(i, end);
    auto it = sessions_by_id_.find(first.session);
    if (it == sessions_by_id_.end()) continue;
    if (!may_read(*it->second, message->topic())) continue;
    if (!delivery.message) delivery.message = message;  // the first session, or the last one kept it
    delivery.qos = min_qos(message->qos(), qos);
    delivery.retain = retain_as_published && message->retain();
    delivery.subscription_ids.clear();
    for (size_t k = begin; k < end; ++k) {
      if (targets[k].identifier) delivery.subscription_ids.push_back(targets[k].identifier);
    }
    deliver(*it->second, delivery, now);
    ++delivered;
  }
  publish_cache_.end();
  targets.clear();
  spare_route_targets = std::move(targets);
  return delivered;
}

// ---------------------------------------------------------------- access

ClientIdentity Broker::identity_of(const Client& client) const {
  // Views into the session's own user name (a conditional expression here
  // would copy it into a temporary that dies before the view is used).
  ClientIdentity identity{client.client_id, std::nullopt};
  if (client.session && client.session->username()) identity.username = *client.session->username();
  return identity;
}

bool Broker::may_read(const session::Session& session, std::string_view topic) const {
  // Checked on every delivery, so a changed ACL or a resumed session never
  // receives what it may no longer read.
  return !access_ || access_->can_read(ClientIdentity{session.client_id(), session.username()}, topic);
}

// ---------------------------------------------------------------- outbound

void Broker::deliver(session::Session& session, session::Delivery& delivery, TimePoint now) {
  const bool online = online_.count(session.id()) > 0;
  // QoS 0 is never stored: only QoS 1/2 carry a promise across a restart.
  store::Batch* records = delivery.qos == QoS::at_most_once ? nullptr : batch_for(session);
  // What enqueue() then pump() would do, without the queue in between and,
  // for QoS 1/2, with one record instead of two for the batch to join: most
  // deliveries go to an online client with nothing queued.
  Client* client = online ? online_client(session) : nullptr;
  if (client && session.sends_at_once(delivery, config_.queue, send_window(*client), now)) {
    send_at_once(*client, session, delivery, records, now);
    return;
  }
  // Recorded before the session takes the delivery over, so that keeping it
  // for the record costs no copy (a reference count and the identifiers);
  // a refused delivery takes its record back.
  if (records) records->enqueue(session.client_id(), delivery);
  if (!session.enqueue(std::move(delivery), config_.queue, online)) {
    if (records) records->withdraw_enqueue();
    ++stats_.publish_dropped;
    if (session.counters().dropped_queue_full % 1000 == 1) {
      log::warning("Outgoing messages are being dropped for client {} (queue full, {} dropped).",
                   session.client_id(), session.counters().dropped_queue_full);
    }
    return;
  }
  if (client) pump_to(*client, session, now);
}

void Broker::send_at_once(Client& client, session::Session& session, session::Delivery& delivery,
                          store::Batch* records, TimePoint now) {
  if (delivery.qos == QoS::at_most_once) {
    send_publish(client, delivery, 0, false, now);
  } else {
    session::Inflight& entry = session.start_inflight(std::move(delivery));
    if (records) records->push_inflight(session.client_id(), entry.delivery, entry.packet_id, entry.state);
    send_publish(client, entry.delivery, entry.packet_id, false, now);
  }
  // As in pump(): a retained backlog goes on behind what was queued.
  if (session.has_retained_backlog()) send_backlog(client, session, BacklogPace::acks, now);
}

size_t Broker::send_window(const Client& client) const {
  size_t window = client.protocol.client_receive_maximum();
  if (config_.queue.max_inflight) window = std::min(window, config_.queue.max_inflight);
  return window;
}

void Broker::pump(session::Session& session, TimePoint now) {
  if (Client* client = online_client(session)) pump_to(*client, session, now);
}

void Broker::pump_to(Client& client, session::Session& session, TimePoint now) {
  const size_t window = send_window(client);
  while (auto delivery = session.take_sendable(window, now)) {
    if (delivery->qos == QoS::at_most_once) {
      send_publish(client, *delivery, 0, false, now);
      continue;
    }
    session::Inflight& entry = session.start_inflight(std::move(*delivery));
    if (store::Batch* records = batch_for(session)) {
      records->start_inflight(session.client_id(), entry.delivery.message, entry.packet_id, entry.state);
    }
    send_publish(client, entry.delivery, entry.packet_id, false, now);
  }
  // Queued messages first: the queue has a limit and drops at it, a backlog
  // waits in the retained tree.
  if (session.has_retained_backlog()) send_backlog(client, session, BacklogPace::acks, now);
}

bool Broker::send_shared_publish(Client& client, const session::Delivery& delivery, uint16_t packet_id,
                                 bool dup, bool paced) {
  const session::Message& message = *delivery.message;
  const bool needs_own_encoding =
      !delivery.subscription_ids.empty() || message.expires_at() || !client.protocol.sends_publish_verbatim();
  if (needs_own_encoding) return false;
  std::string& bytes = output_scratch_;
  bytes.clear();
  if (!publish_cache_.append(message, client.protocol.is_v5(), dup, delivery.qos, delivery.retain, packet_id,
                             bytes)) {
    return false;
  }
  if (bytes.size() > client.protocol.client_max_packet_size()) return false;  // the full path drops it
  count_publish_sent(bytes.size());
  outbox_.send(client.id, bytes, delivery.qos == QoS::at_most_once && !paced);
  return true;
}

void Broker::count_publish_sent(size_t bytes) {
  ++stats_.packets_sent;
  ++stats_.publish_sent;
  stats_.bytes_sent += bytes;
}

void Broker::send_publish(Client& client, const session::Delivery& delivery, uint16_t packet_id, bool dup,
                          TimePoint now, bool paced) {
  if (send_shared_publish(client, delivery, packet_id, dup, paced)) return;
  const session::Message& message = *delivery.message;
  mqtt::Publish publish;
  publish.dup = dup;
  publish.qos = delivery.qos;
  publish.retain = delivery.retain;
  publish.topic = message.topic();
  publish.packet_id = packet_id;
  publish.payload = message.payload();
  if (client.protocol.is_v5()) {
    publish.properties = message.properties();
    publish.properties.subscription_identifiers = delivery.subscription_ids;
    if (message.expires_at()) {
      publish.properties.message_expiry_interval = remaining_seconds(*message.expires_at(), now);
    }
  }
  std::string& bytes = output_scratch_;
  bytes.clear();
  if (!client.protocol.encode(std::move(publish), bytes)) {
    ++stats_.publish_dropped;
    if (client.session) ++client.session->counters().dropped_too_large;
    log::debug("PUBLISH on {} too large for client {}: dropped [MQTT-3.1.2-25].", message.topic(),
               client.client_id);
    // A QoS 1/2 message the client can never take is settled as if acknowledged.
    if (packet_id && client.session) {
      const auto state = delivery.qos == QoS::exactly_once ? session::InflightState::awaiting_pubrec
                                                           : session::InflightState::awaiting_puback;
      if (client.session->complete_inflight(packet_id, state)) record_completed(*client.session, packet_id);
    }
    return;
  }
  count_publish_sent(bytes.size());
  outbox_.send(client.id, bytes, delivery.qos == QoS::at_most_once && !paced);
}

void Broker::resend_inflight(Client& client, session::Session& session, TimePoint now) {
  // [MQTT-4.4.0-1]: unacknowledged PUBLISH again with DUP, and PUBREL for
  // those already received, in their original order.
  for (const session::Inflight& entry : session.inflight()) {
    if (entry.state == session::InflightState::awaiting_pubcomp) {
      send(client, mqtt::Ack{mqtt::PacketType::pubrel, entry.packet_id});
    } else {
      send_publish(client, entry.delivery, entry.packet_id, true, now);
    }
  }
}

void Broker::handle_ack(Client& client, const mqtt::Ack& ack, TimePoint now) {
  session::Session& session = *client.session;
  using mqtt::PacketType;
  switch (ack.type) {
    case PacketType::puback:
      if (session.complete_inflight(ack.packet_id, session::InflightState::awaiting_puback)) {
        record_completed(session, ack.packet_id);
      }
      break;
    case PacketType::pubrec:
      // An error code in PUBREC ends the flow: no PUBREL, no resend [MQTT-4.4.0-2].
      if (mqtt::is_error(ack.reason)) {
        if (session.complete_inflight(ack.packet_id, session::InflightState::awaiting_pubrec)) {
          record_completed(session, ack.packet_id);
        }
      } else {
        const bool known = session.mark_released(ack.packet_id);
        if (known) {
          if (store::Batch* records = batch_for(session)) {
            records->set_inflight_state(session.client_id(), ack.packet_id,
                                        session::InflightState::awaiting_pubcomp);
          }
        }
        send(client, mqtt::Ack{PacketType::pubrel, ack.packet_id,
                               known ? ReasonCode::success : ReasonCode::packet_identifier_not_found});
      }
      break;
    case PacketType::pubrel: {
      const bool known = session.release_inbound_qos2(ack.packet_id);
      if (known) {
        if (store::Batch* records = batch_for(session)) {
          records->release_inbound_qos2(session.client_id(), ack.packet_id);
        }
      }
      send(client, mqtt::Ack{PacketType::pubcomp, ack.packet_id,
                             known ? ReasonCode::success : ReasonCode::packet_identifier_not_found});
      break;
    }
    case PacketType::pubcomp:
      if (session.complete_inflight(ack.packet_id, session::InflightState::awaiting_pubcomp)) {
        record_completed(session, ack.packet_id);
      }
      break;
    default:
      break;
  }
  pump(session, now);
}

// ---------------------------------------------------------------- SUBSCRIBE

void Broker::handle_subscribe(Client& client, mqtt::Subscribe&& subscribe, TimePoint now) {
  const uint32_t identifier = subscribe.properties.subscription_identifiers.empty()
                                  ? 0
                                  : subscribe.properties.subscription_identifiers[0];
  mqtt::Suback suback;
  suback.packet_id = subscribe.packet_id;
  std::vector<std::pair<size_t, bool>> accepted;  // request index, subscription is new
  for (size_t i = 0; i < subscribe.topics.size(); ++i) {
    const SubscribeOutcome outcome = subscribe_one(client, subscribe.topics[i], identifier);
    if (outcome.reason == ReasonCode::protocol_error) {
      fail_connection(client, outcome.reason, "No Local on a shared subscription [MQTT-3.8.3-4]", now);
      return;
    }
    suback.reasons.push_back(outcome.reason);
    if (!mqtt::is_error(outcome.reason)) accepted.emplace_back(i, outcome.is_new);
  }
  // SUBACK first, then the retained messages the subscriptions release.
  send(client, std::move(suback));
  for (auto [index, is_new] : accepted) {
    const mqtt::TopicRequest& request = subscribe.topics[index];
    send_retained(*client.session, request, is_new, identifier, now);
  }
}

Broker::SubscribeOutcome Broker::subscribe_one(Client& client, const mqtt::TopicRequest& request,
                                               uint32_t identifier) {
  const bool v5 = client.protocol.is_v5();
  const ReasonCode invalid = v5 ? ReasonCode::topic_filter_invalid : ReasonCode::unspecified_error;
  if (!mqtt::is_valid_topic_filter(request.filter)) return {invalid, false};
  const auto shared = mqtt::parse_shared_filter(request.filter);
  if (shared && shared->group.empty()) return {invalid, false};
  if (shared && request.options.no_local && v5) return {ReasonCode::protocol_error, false};
  const std::string_view plain_filter = shared ? shared->filter : std::string_view(request.filter);
  if (access_ && !access_->can_subscribe(identity_of(client), plain_filter)) {
    return {v5 ? ReasonCode::not_authorized : ReasonCode::unspecified_error, false};
  }
  session::Session& session = *client.session;
  const session::Subscription subscription{request.options, identifier};
  const bool is_new = session.add_subscription(request.filter, subscription);
  if (store::Batch* records = batch_for(session)) {
    records->subscribe(session.client_id(), request.filter, subscription);
  }
  (void)subscriptions_.subscribe(request.filter, session.id(),
                                 SubscriptionValue{request.options, identifier});
  return {static_cast<ReasonCode>(static_cast<uint8_t>(request.options.max_qos)), is_new};
}

void Broker::handle_unsubscribe(Client& client, mqtt::Unsubscribe&& unsubscribe) {
  session::Session& session = *client.session;
  mqtt::Unsuback unsuback;
  unsuback.packet_id = unsubscribe.packet_id;
  for (const std::string& filter : unsubscribe.filters) {
    const bool existed = session.remove_subscription(filter);
    (void)session.drop_retained_backlog(filter);
    if (existed) (void)subscriptions_.unsubscribe(filter, session.id());
    store::Batch* records = existed ? batch_for(session) : nullptr;
    if (records) records->unsubscribe(session.client_id(), filter);
    unsuback.reasons.push_back(existed ? ReasonCode::success : ReasonCode::no_subscription_existed);
  }
  send(client, std::move(unsuback));
}

void Broker::record_completed(const session::Session& session, uint16_t packet_id) {
  if (store::Batch* records = batch_for(session)) records->complete_inflight(session.client_id(), packet_id);
}

void Broker::remove_subscriptions(session::Session& session) {
  for (const auto& [filter, sub] : session.subscriptions())
    (void)subscriptions_.unsubscribe(filter, session.id());
}

}  // namespace stellwerk::broker

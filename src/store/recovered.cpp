// Turning the store's state into the broker's values after recovery. Each
// body is one session::Message shared by every entry that refers to it, as
// it was before the restart, and by the store's mirror.
#include "store/state.h"

namespace stellwerk::store {
namespace {

template <typename MessageOf>
session::Delivery to_delivery(const DeliveryRef& ref, const MessageOf& message_of) {
  return session::Delivery{message_of(ref.message), ref.qos, ref.retain, ref.subscription_ids};
}

template <typename MessageOf>
RecoveredSession to_recovered_session(const std::string& client_id, const StoredSession& stored,
                                      const MessageOf& message_of) {
  RecoveredSession out;
  out.client_id = client_id;
  out.info = stored.info;
  for (const auto& [filter, sub] : stored.subscriptions) {
    out.subscriptions.emplace(filter, session::Subscription{sub.options, sub.identifier});
  }
  for (const DeliveryRef& ref : stored.queue) out.queue.push_back(to_delivery(ref, message_of));
  for (const StoredInflight& entry : stored.inflight) {
    out.inflight.push_back(
        session::Inflight{entry.packet_id, entry.state, to_delivery(entry.delivery, message_of)});
  }
  out.inbound_qos2.assign(stored.inbound_qos2.begin(), stored.inbound_qos2.end());
  return out;
}

}  // namespace

RecoveredState State::to_recovered(const TimeBase& time) const {
  // A message with an expiry is copied once, however many entries refer to it.
  std::unordered_map<MessageId, session::MessagePtr> copies;
  const auto with_deadline_once = [&](MessageId id, const session::MessagePtr& message,
                                      WallMs expires_at) -> session::MessagePtr {
    if (expires_at == 0 && !message->expires_at()) return message;
    auto [it, inserted] = copies.try_emplace(id);
    if (inserted) {
      it->second = with_deadline(message, expires_at, time);
      it->second->set_store_id(id);
    }
    return it->second;
  };
  // apply() only lets entries reference bodies that exist, so every lookup succeeds.
  const auto message_of = [&](MessageId id) {
    const Body& body = bodies_.at(id);
    return with_deadline_once(id, body.message, body.expires_at);
  };
  // After settle_decoded_bodies(), a retained message that entries hold too
  // is the very body they hold: its copy with a deadline is made once.
  const auto retained_message = [&](const session::MessagePtr& message) {
    const MessageId id = message->store_id();
    return with_deadline_once(id, message, retained_expiry(id));
  };
  RecoveredState out;
  out.retained.reserve(retained_.size());
  out.sessions.reserve(sessions_.size());
  for (const session::MessagePtr* message : retained_in_topic_order()) {
    out.retained.push_back(retained_message(*message));
  }
  for (const auto& [client_id, stored] : sessions_) {
    out.sessions.push_back(to_recovered_session(client_id, stored, message_of));
  }
  return out;
}

session::MessagePtr State::with_deadline(const session::MessagePtr& message, WallMs expires_at,
                                         const TimeBase& time) {
  const std::optional<TimePoint> deadline = time.to_steady(expires_at);
  if (message->expires_at() == deadline) return message;
  // Rare (v5 Message Expiry Interval): the copy gets the deadline the
  // stored wall-clock time means on this run's steady clock.
  const session::Message& stored = *message;
  return session::Message::create(
      stored.topic(), stored.payload(),
      {.qos = stored.qos(),
       .retain = stored.retain(),
       .expires_at = deadline,
       .properties = stored.has_properties() ? std::make_unique<mqtt::Properties>(stored.properties()) : nullptr});
}

}  // namespace stellwerk::store

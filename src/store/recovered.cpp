// Turning the store's state into the broker's values after recovery. Each
// body becomes one session::Message shared by every entry that refers to it,
// as it was before the restart.
#include "store/state.h"

namespace stellwerk::store {
namespace {

using MessageMap = std::unordered_map<MessageId, session::MessagePtr>;

session::Delivery to_delivery(const DeliveryRef& ref, const MessageMap& messages) {
  return session::Delivery{messages.at(ref.message), ref.qos, ref.retain, ref.subscription_ids};
}

RecoveredSession to_recovered_session(const std::string& client_id, const StoredSession& stored,
                                      const MessageMap& messages) {
  RecoveredSession out;
  out.client_id = client_id;
  out.info = stored.info;
  for (const auto& [filter, sub] : stored.subscriptions) {
    out.subscriptions.emplace(filter, session::Subscription{sub.options, sub.identifier});
  }
  for (const DeliveryRef& ref : stored.queue) out.queue.push_back(to_delivery(ref, messages));
  for (const StoredInflight& entry : stored.inflight) {
    out.inflight.push_back(
        session::Inflight{entry.packet_id, entry.state, to_delivery(entry.delivery, messages)});
  }
  out.inbound_qos2.assign(stored.inbound_qos2.begin(), stored.inbound_qos2.end());
  return out;
}

}  // namespace

RecoveredState State::to_recovered(const TimeBase& time,
                                   std::vector<std::pair<MessageId, session::MessagePtr>>* ids) const {
  // apply() only lets entries reference bodies that exist, so every lookup below succeeds.
  MessageMap messages;
  messages.reserve(messages_.size());
  if (ids) ids->reserve(ids->size() + messages_.size());
  for (const auto& [id, body] : messages_) {
    session::MessagePtr message = to_message(body.body, time);
    if (ids) ids->emplace_back(id, message);
    messages.emplace(id, std::move(message));
  }
  RecoveredState out;
  out.retained.reserve(retained_.size());
  out.sessions.reserve(sessions_.size());
  for (const auto& [topic, id] : retained_) out.retained.push_back(messages.at(id));
  for (const auto& [client_id, stored] : sessions_) {
    out.sessions.push_back(to_recovered_session(client_id, stored, messages));
  }
  return out;
}

}  // namespace stellwerk::store

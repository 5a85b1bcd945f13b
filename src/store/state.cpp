// Applying records to the mirror. Every apply_one() first finds what the
// record refers to and returns without a change when it is missing.
#include "store/state.h"

#include <algorithm>

namespace stellwerk::store {

using namespace record;

void State::apply(const Record& record) {
  std::visit([this](const auto& r) { apply_one(r); }, record);
}

void State::end_batch() {
  for (MessageId id : maybe_unreferenced_) {
    auto it = messages_.find(id);
    if (it != messages_.end() && it->second.references == 0) messages_.erase(it);
  }
  maybe_unreferenced_.clear();
}

const MessageBody* State::body(MessageId id) const {
  auto it = messages_.find(id);
  return it == messages_.end() ? nullptr : &it->second.body;
}

bool State::operator==(const State& other) const {
  return messages_ == other.messages_ && retained_ == other.retained_ && sessions_ == other.sessions_;
}

StoredSession* State::find_session(const std::string& client_id) {
  auto it = sessions_.find(client_id);
  return it == sessions_.end() ? nullptr : &it->second;
}

bool State::add_reference(MessageId id) {
  auto it = messages_.find(id);
  if (it == messages_.end()) return false;
  ++it->second.references;
  return true;
}

void State::release(MessageId id) {
  auto it = messages_.find(id);
  if (it == messages_.end() || it->second.references == 0) return;
  if (--it->second.references == 0) maybe_unreferenced_.push_back(id);
}

void State::release_messages(StoredSession& session) {
  for (const DeliveryRef& delivery : session.queue) release(delivery.message);
  for (const StoredInflight& entry : session.inflight) release(entry.delivery.message);
  session.queue.clear();
  session.inflight.clear();
  session.inbound_qos2.clear();
}

void State::apply_one(const MessagePut& r) {
  highest_message_id_ = std::max(highest_message_id_, r.id);
  // A body put again (by a later batch that adds a reference) is the same
  // message: an id never changes meaning while its body exists.
  auto it = messages_.try_emplace(r.id, Body{r.body, 0}).first;
  if (it->second.references == 0) maybe_unreferenced_.push_back(r.id);
}

void State::apply_one(const RetainedSet& r) {
  const MessageBody* retained = body(r.id);
  if (!retained) return;
  // A snapshot lists retained topics in order: appending at the end then
  // costs one comparison instead of a walk down a tree of a million topics.
  const bool after_last = retained_.empty() || retained_.rbegin()->first < retained->topic;
  auto [it, inserted] = after_last ? std::pair{retained_.emplace_hint(retained_.end(), retained->topic, r.id), true}
                                   : retained_.try_emplace(retained->topic, r.id);
  if (!inserted) {
    // Reference first: replacing a topic's body with itself must not drop it.
    add_reference(r.id);
    release(it->second);
    it->second = r.id;
    return;
  }
  add_reference(r.id);
}

void State::apply_one(const RetainedClear& r) {
  auto it = retained_.find(r.topic);
  if (it == retained_.end()) return;
  release(it->second);
  retained_.erase(it);
}

void State::apply_one(const SessionPut& r) { sessions_[r.client_id].info = r.info; }

void State::apply_one(const SessionDelete& r) {
  StoredSession* session = find_session(r.client_id);
  if (!session) return;
  release_messages(*session);
  sessions_.erase(r.client_id);
}

void State::apply_one(const SubscriptionPut& r) {
  if (StoredSession* session = find_session(r.client_id)) {
    session->subscriptions[r.filter] = StoredSubscription{r.options, r.identifier};
  }
}

void State::apply_one(const SubscriptionDelete& r) {
  if (StoredSession* session = find_session(r.client_id)) session->subscriptions.erase(r.filter);
}

void State::apply_one(const QueuePush& r) {
  StoredSession* session = find_session(r.client_id);
  if (!session || !add_reference(r.delivery.message)) return;
  session->queue.push_back(r.delivery);
}

std::optional<DeliveryRef> State::take_queued(StoredSession& session, MessageId message) {
  auto found = std::find_if(session.queue.begin(), session.queue.end(),
                            [&](const DeliveryRef& d) { return d.message == message; });
  if (found == session.queue.end()) return std::nullopt;
  DeliveryRef taken = std::move(*found);
  for (auto it = session.queue.begin(); it != found; ++it) release(it->message);
  session.queue.erase(session.queue.begin(), found + 1);
  return taken;
}

void State::apply_one(const QueueDrop& r) {
  StoredSession* session = find_session(r.client_id);
  if (!session) return;
  if (auto taken = take_queued(*session, r.message)) release(taken->message);
}

void State::apply_one(const QueueToInflight& r) {
  StoredSession* session = find_session(r.client_id);
  if (!session) return;
  auto taken = take_queued(*session, r.message);
  if (!taken) return;
  // The queue entry's reference moves to the in-flight entry.
  put_inflight(*session, StoredInflight{r.packet_id, r.state, std::move(*taken)});
}

void State::put_inflight(StoredSession& session, StoredInflight entry) {
  auto it = std::find_if(session.inflight.begin(), session.inflight.end(),
                         [&](const StoredInflight& f) { return f.packet_id == entry.packet_id; });
  if (it == session.inflight.end()) {
    session.inflight.push_back(std::move(entry));
    return;
  }
  const MessageId replaced = it->delivery.message;
  *it = std::move(entry);
  release(replaced);
}

void State::apply_one(const InflightPut& r) {
  StoredSession* session = find_session(r.client_id);
  if (!session || !add_reference(r.delivery.message)) return;
  put_inflight(*session, StoredInflight{r.packet_id, r.state, r.delivery});
}

void State::apply_one(const InflightState& r) {
  StoredSession* session = find_session(r.client_id);
  if (!session) return;
  for (StoredInflight& entry : session->inflight) {
    if (entry.packet_id == r.packet_id) entry.state = r.state;
  }
}

void State::apply_one(const InflightDelete& r) {
  StoredSession* session = find_session(r.client_id);
  if (!session) return;
  auto it = std::find_if(session->inflight.begin(), session->inflight.end(),
                         [&](const StoredInflight& f) { return f.packet_id == r.packet_id; });
  if (it == session->inflight.end()) return;
  const MessageId released = it->delivery.message;
  session->inflight.erase(it);
  release(released);
}

void State::apply_one(const InboundQos2Add& r) {
  if (StoredSession* session = find_session(r.client_id)) session->inbound_qos2.insert(r.packet_id);
}

void State::apply_one(const InboundQos2Remove& r) {
  if (StoredSession* session = find_session(r.client_id)) session->inbound_qos2.erase(r.packet_id);
}

void State::apply_one(const MessagesClear& r) {
  if (StoredSession* session = find_session(r.client_id)) release_messages(*session);
}

void State::for_each_record(const std::function<void(const Record&)>& emit) const {
  for (const auto& [id, body] : messages_) emit(MessagePut{id, body.body});
  for (const auto& [topic, id] : retained_) emit(RetainedSet{id});
  for (const auto& [client_id, session] : sessions_) emit_session(client_id, session, emit);
}

void State::emit_session(const std::string& client_id, const StoredSession& session,
                         const std::function<void(const Record&)>& emit) const {
  emit(SessionPut{client_id, session.info});
  for (const auto& [filter, sub] : session.subscriptions) {
    emit(SubscriptionPut{client_id, filter, sub.options, sub.identifier});
  }
  for (const DeliveryRef& delivery : session.queue) emit(QueuePush{client_id, delivery});
  for (const StoredInflight& entry : session.inflight) {
    emit(InflightPut{client_id, entry.packet_id, entry.state, entry.delivery});
  }
  for (uint16_t packet_id : session.inbound_qos2) emit(InboundQos2Add{client_id, packet_id});
}

}  // namespace stellwerk::store

// Applying records to the mirror. Every apply_one() first finds what the
// record refers to and returns without a change when it is missing.
#include "store/state.h"

#include <algorithm>

namespace stellwerk::store {

using namespace record;

void State::apply(const Record& record) {
  std::visit([this](const auto& r) { apply_one(r); }, record);
}

void State::apply(MessagePut&& put) { apply_one(std::move(put)); }

void State::end_batch() {
  for (MessageId id : maybe_unreferenced_) {
    auto it = messages_.find(id);
    if (it != messages_.end() && it->second.references == 0) messages_.erase(it);
  }
  maybe_unreferenced_.clear();
}

const session::Message* State::message(MessageId id) const {
  auto it = messages_.find(id);
  return it == messages_.end() ? nullptr : it->second.message.get();
}

bool State::Body::operator==(const Body& other) const {
  return references == other.references && expires_at == other.expires_at &&
         same_content(*message, *other.message);
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

void State::apply_one(MessagePut r) {
  // Only the broker's own code makes records; a body-less one is a bug, and ignored.
  if (!r.message) return;
  highest_message_id_ = std::max(highest_message_id_, r.id);
  // A body put again (by a later batch that adds a reference) is the same
  // message: an id never changes meaning while its body exists.
  auto [it, inserted] = messages_.try_emplace(r.id);
  if (inserted) it->second = Body{std::move(r.message), r.expires_at, 0};
  if (it->second.references == 0) maybe_unreferenced_.push_back(r.id);
}

void State::apply_one(const RetainedSet& r) {
  auto body = messages_.find(r.id);
  if (body == messages_.end()) return;
  const std::string_view topic = body->second.message->topic();
  // Reference first: replacing a topic's body with itself must not drop it.
  ++body->second.references;
  // A snapshot lists retained topics in order: appending at the end then
  // costs one comparison instead of a walk down a tree of a million topics.
  const bool after_last = retained_.empty() || retained_.rbegin()->first < topic;
  if (after_last) {
    retained_.emplace_hint(retained_.end(), topic, r.id);
    return;
  }
  auto [it, inserted] = retained_.try_emplace(topic, r.id);
  if (inserted) return;
  release(it->second);
  // The key viewed the old body's topic, which may be dropped at the end of
  // the batch: it now views the new one's (equal, so it keeps its place).
  const auto next = std::next(it);
  auto node = retained_.extract(it);
  node.key() = topic;
  node.mapped() = r.id;
  retained_.insert(next, std::move(node));
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

void State::renumber_messages() {
  std::unordered_map<MessageId, MessageId> new_ids;
  std::unordered_map<MessageId, Body> renumbered;
  new_ids.reserve(messages_.size());
  renumbered.reserve(messages_.size());
  for (auto& [id, body] : messages_) {
    const MessageId fresh = renumbered.size() + 1;
    new_ids.emplace(id, fresh);
    // The message moves with its body, so the retained keys that view its topic stay valid.
    renumbered.emplace(fresh, std::move(body));
  }
  messages_ = std::move(renumbered);
  // apply() only lets entries reference bodies that exist, so every lookup below succeeds.
  for (auto& [topic, id] : retained_) id = new_ids.at(id);
  for (auto& [client_id, session] : sessions_) {
    for (DeliveryRef& delivery : session.queue) delivery.message = new_ids.at(delivery.message);
    for (StoredInflight& entry : session.inflight) entry.delivery.message = new_ids.at(entry.delivery.message);
  }
  highest_message_id_ = messages_.size();
}

void State::for_each_record(const std::function<void(const Record&)>& emit) const {
  for (const auto& [id, body] : messages_) emit(MessagePut{id, body.message, body.expires_at});
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

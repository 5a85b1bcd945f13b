// Applying records to the mirror. Every apply_one() first finds what the
// record refers to and returns without a change when it is missing.
#include "store/state.h"

#include <algorithm>

#include "mqtt/validate.h"

namespace stellwerk::store {

using namespace record;

void State::apply(const Record& record) {
  std::visit([this](const auto& r) { apply_one(r); }, record);
}

void State::apply(MessagePut&& put) { apply_one(std::move(put)); }

void State::reserve(size_t messages, size_t retained) {
  bodies_.reserve(bodies_.size() + messages);
  retained_.reserve(retained_.size() + retained);
}

void State::end_batch() {
  for (MessageId id : maybe_unreferenced_) {
    auto it = bodies_.find(id);
    if (it != bodies_.end() && it->second.references == 0) bodies_.erase(it);
  }
  maybe_unreferenced_.clear();
  // A snapshot is one batch that puts every body; most go to the retained
  // set at once. Neither the table nor the list shrinks by itself, and
  // they would keep room for them all (8 bytes per retained message in
  // the list alone).
  constexpr size_t kShrinkAbove = 4096;
  if (maybe_unreferenced_.capacity() > kShrinkAbove) maybe_unreferenced_.shrink_to_fit();
  if (bodies_.bucket_count() > kShrinkAbove && bodies_.size() * 8 < bodies_.bucket_count()) bodies_.rehash(0);
}

size_t State::message_count() const {
  const auto only_retained = std::count_if(retained_.begin(), retained_.end(), [&](const session::MessagePtr& m) {
    return bodies_.count(m->store_id()) == 0;
  });
  return bodies_.size() + static_cast<size_t>(only_retained);
}

const session::Message* State::retained(std::string_view topic) const {
  const session::MessagePtr* found = retained_.find(topic);
  return found ? found->get() : nullptr;
}

const session::Message* State::message(MessageId id) const {
  if (auto it = bodies_.find(id); it != bodies_.end()) return it->second.message.get();
  auto it = std::find_if(retained_.begin(), retained_.end(),
                         [&](const session::MessagePtr& m) { return m->store_id() == id; });
  return it == retained_.end() ? nullptr : it->get();
}

bool State::Body::operator==(const Body& other) const {
  return references == other.references && expires_at == other.expires_at &&
         same_content(*message, *other.message);
}

bool State::operator==(const State& other) const {
  return bodies_ == other.bodies_ && retained_expiry_ == other.retained_expiry_ && sessions_ == other.sessions_ &&
         same_retained(other);
}

bool State::same_retained(const State& other) const {
  if (retained_.size() != other.retained_.size()) return false;
  return std::all_of(retained_.begin(), retained_.end(), [&](const session::MessagePtr& mine) {
    const session::MessagePtr* theirs = other.retained_.find(topic_of(*mine));
    return theirs && (*theirs)->store_id() == mine->store_id() && same_content(*mine, **theirs);
  });
}

StoredSession* State::find_session(std::string_view client_id) {
  auto it = session_index_.find(client_id);
  return it == session_index_.end() ? nullptr : it->second;
}

bool State::add_reference(MessageId id) {
  auto it = bodies_.find(id);
  if (it == bodies_.end()) return false;
  ++it.value().references;
  return true;
}

void State::release(MessageId id) {
  auto it = bodies_.find(id);
  if (it == bodies_.end() || it->second.references == 0) return;
  if (--it.value().references == 0) maybe_unreferenced_.push_back(id);
}

void State::release_messages(StoredSession& session) {
  for (const DeliveryRef& delivery : session.queue) release(delivery.message);
  for (const StoredInflight& entry : session.inflight) release(entry.delivery.message);
  session.queue.clear();
  session.inflight.clear();
  session.inflight_ids.ids.clear();
  session.inbound_qos2.clear();
}

void State::apply_one(MessagePut r) {
  // Only the broker's own code makes records; a body-less one is a bug, and
  // ignored. So is an id a message cannot hold: ids are renumbered long
  // before (MessageIds), so only a damaged file has one.
  if (!r.message || r.id > session::Message::kMaxStoreId) return;
  const bool known = r.id <= highest_message_id_;
  highest_message_id_ = std::max(highest_message_id_, r.id);
  // The broker's messages carry their id already; decoded ones learn it
  // here, so that a retained body is named by its message alone.
  if (r.message->store_id() != r.id) r.message->set_store_id(r.id);
  // A body put again (by a later batch that adds a reference) is the same
  // message: an id never changes meaning while its body exists.
  auto [it, inserted] = bodies_.try_emplace(r.id);
  if (inserted) {
    // A retained entry may hold this id: recovery settles that afterwards.
    known_id_put_again_ = known_id_put_again_ || known;
    it.value() = Body{std::move(r.message), r.expires_at, 0};
  }
  if (it->second.references == 0) maybe_unreferenced_.push_back(r.id);
}

void State::keep_topic_order(bool keep) {
  forget_topic_order();
  in_topic_order_ = keep && retained_.empty();
}

bool State::extends_topic_order(const session::Message& message) {
  if (!in_topic_order_) return false;
  if (topic_order_.empty() || mqtt::topic_level_less(topic_order_.back()->topic(), message.topic())) return true;
  forget_topic_order();
  return false;
}

void State::forget_topic_order() {
  in_topic_order_ = false;
  // Not `= {}`: that assigns an empty list and keeps the capacity.
  decltype(topic_order_)().swap(topic_order_);
}

void State::apply_one(const RetainedSet& r) {
  auto body = bodies_.find(r.id);
  if (body == bodies_.end()) return;
  if (extends_topic_order(*body->second.message)) {
    // After every topic in the set, so not in it.
    topic_order_.push_back(retained_.insert_new(body->second.message));
    set_retained_expiry(r.id, body->second.expires_at);
    return;
  }
  auto [slot, inserted] = retained_.insert(body->second.message);
  if (inserted) {
    set_retained_expiry(r.id, body->second.expires_at);
  } else {
    replace_retained(*slot, r.id, body->second);
  }
}

void State::settle_decoded_bodies() {
  if (!std::exchange(known_id_put_again_, false)) return;
  // Settling may replace retained messages by equal ones held elsewhere.
  forget_topic_order();
  tsl::robin_set<MessageId> seen;
  // Only the id and the pointer change, never the topic: the set stays valid.
  retained_.for_each_slot([&](session::MessagePtr& message) { settle_retained(message, seen); });
}

void State::settle_retained(session::MessagePtr& message, tsl::robin_set<MessageId>& seen) {
  const MessageId id = message->store_id();
  auto body = bodies_.find(id);
  const bool held_elsewhere = body != bodies_.end() && body->second.message != message;
  if (held_elsewhere && same_content(*body->second.message, *message)) {
    message = body->second.message;
  } else if (held_elsewhere || !seen.insert(id).second) {
    const MessageId fresh = ++highest_message_id_;
    set_retained_expiry(fresh, retained_expiry(id));
    message->set_store_id(fresh);
    seen.insert(fresh);
  }
}

void State::replace_retained(session::MessagePtr& slot, MessageId id, const Body& body) {
  forget_retained_expiry(*slot);
  // The new message has the same topic, hence the same slot: replacing the
  // pointer in place is a lookup instead of an erase and an insert.
  slot = body.message;
  set_retained_expiry(id, body.expires_at);
}

void State::set_retained_expiry(MessageId id, WallMs expires_at) {
  if (expires_at != 0) retained_expiry_[id] = expires_at;
}

void State::forget_retained_expiry(const session::Message& message) {
  if (!retained_expiry_.empty()) retained_expiry_.erase(message.store_id());
}

WallMs State::retained_expiry(MessageId id) const {
  auto it = retained_expiry_.find(id);
  return it == retained_expiry_.end() ? 0 : it->second;
}

void State::apply_one(const RetainedClear& r) {
  const session::MessagePtr* found = retained_.find(r.topic);
  if (!found) return;
  forget_topic_order();
  forget_retained_expiry(**found);
  retained_.erase(r.topic);
}

void State::apply_one(const SessionPut& r) {
  if (StoredSession* session = find_session(r.client_id)) {
    session->info = r.info;
    return;
  }
  auto it = sessions_.try_emplace(r.client_id).first;
  it->second.info = r.info;
  session_index_.emplace(it->first, &it->second);
}

void State::apply_one(const SessionDelete& r) {
  StoredSession* session = find_session(r.client_id);
  if (!session) return;
  release_messages(*session);
  session_index_.erase(r.client_id);
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
  if (!holds_packet_id(session, entry.packet_id)) {
    if (!session.inflight_ids.ids.empty()) session.inflight_ids.ids.insert(entry.packet_id);
    session.inflight.push_back(std::move(entry));
    return;
  }
  auto it = std::find_if(session.inflight.begin(), session.inflight.end(),
                         [&](const StoredInflight& f) { return f.packet_id == entry.packet_id; });
  const MessageId replaced = it->delivery.message;
  *it = std::move(entry);
  release(replaced);
}

namespace {
constexpr size_t kScannedInflight = 16;
}

bool State::holds_packet_id(StoredSession& session, uint16_t packet_id) {
  // Once built, the index follows every change until the entries run out.
  tsl::robin_set<uint16_t>& ids = session.inflight_ids.ids;
  if (ids.empty() && session.inflight.size() <= kScannedInflight) {
    const auto same_id = [&](const StoredInflight& f) { return f.packet_id == packet_id; };
    return std::any_of(session.inflight.begin(), session.inflight.end(), same_id);
  }
  if (ids.empty()) {
    for (const StoredInflight& f : session.inflight) ids.insert(f.packet_id);
  }
  return ids.count(packet_id) > 0;
}

void State::erase_inflight(StoredSession& session, std::deque<StoredInflight>::iterator entry) {
  tsl::robin_set<uint16_t>& ids = session.inflight_ids.ids;
  if (!ids.empty()) ids.erase(entry->packet_id);
  session.inflight.erase(entry);
}

void State::apply_one(const InflightPut& r) {
  StoredSession* session = find_session(r.client_id);
  if (!session || !add_reference(r.delivery.message)) return;
  put_inflight(*session, StoredInflight{r.packet_id, r.state, r.delivery});
}

void State::apply_one(const QueuePushInflight& r) { push_inflight(r.client_id, r.packet_id, r.state, r.delivery); }

void State::apply_one(const MessagePutInflight& r) {
  apply_one(r.body);  // first: the push refers to it
  apply_one(r.push);
}

void State::apply_queue_push_inflight(const InflightEntryView& r) {
  push_inflight(r.client_id, r.packet_id, r.state, r.delivery);
}

void State::push_inflight(std::string_view client_id, uint16_t packet_id, session::InflightState state,
                          const DeliveryRef& delivery) {
  StoredSession* session = find_session(client_id);
  if (!session || !add_reference(delivery.message)) return;
  // As queue_push, then queue_to_inflight of that entry: it takes every
  // entry before it along.
  for (const DeliveryRef& queued : session->queue) release(queued.message);
  session->queue.clear();
  put_inflight(*session, StoredInflight{packet_id, state, delivery});
}

void State::apply_one(const InflightState& r) {
  StoredSession* session = find_session(r.client_id);
  if (!session) return;
  for (StoredInflight& entry : session->inflight) {
    if (entry.packet_id == r.packet_id) entry.state = r.state;
  }
}

void State::apply_one(const InflightDelete& r) { delete_inflight(r.client_id, r.packet_id); }

void State::apply_inflight_delete(const ClientPacketView& r) { delete_inflight(r.client_id, r.packet_id); }

void State::apply_one(const InflightDeleteMany& r) {
  for (const uint16_t packet_id : r.packet_ids) delete_inflight(r.client_id, packet_id);
}

void State::apply_inflight_delete_many(const InflightDeleteManyView& r) {
  for (size_t i = 0; i < r.count(); ++i) delete_inflight(r.client_id, r.packet_id(i));
}

void State::delete_inflight(std::string_view client_id, uint16_t packet_id) {
  StoredSession* session = find_session(client_id);
  if (!session) return;
  auto it = std::find_if(session->inflight.begin(), session->inflight.end(),
                         [&](const StoredInflight& f) { return f.packet_id == packet_id; });
  if (it == session->inflight.end()) return;
  const MessageId released = it->delivery.message;
  erase_inflight(*session, it);
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
  tsl::robin_map<MessageId, MessageId> new_ids;
  const auto renumber = [&](MessageId old) { return new_ids.try_emplace(old, new_ids.size() + 1).first->second; };
  // Ids are given first and set after: a message that a queue and a
  // retained entry share must be looked up by its old id both times.
  std::vector<std::pair<const session::Message*, MessageId>> assigned;
  tsl::robin_map<MessageId, Body> bodies;
  for (auto it = bodies_.begin(); it != bodies_.end(); ++it) {
    const MessageId fresh = renumber(it->first);
    assigned.emplace_back(it->second.message.get(), fresh);
    bodies.emplace(fresh, std::move(it.value()));
  }
  tsl::robin_map<MessageId, WallMs> expiries;
  for (const session::MessagePtr& message : retained_) {
    const MessageId fresh = renumber(message->store_id());
    if (const WallMs expires_at = retained_expiry(message->store_id())) expiries.emplace(fresh, expires_at);
    assigned.emplace_back(message.get(), fresh);
  }
  for (const auto& [message, id] : assigned) message->set_store_id(id);
  bodies_ = std::move(bodies);
  retained_expiry_ = std::move(expiries);
  // apply() only lets entries reference bodies that exist, so every lookup below succeeds.
  for (auto& [client_id, session] : sessions_) {
    for (DeliveryRef& delivery : session.queue) delivery.message = new_ids.at(delivery.message);
    for (StoredInflight& entry : session.inflight) entry.delivery.message = new_ids.at(entry.delivery.message);
  }
  highest_message_id_ = new_ids.size();
}

std::vector<const session::MessagePtr*> State::retained_in_topic_order() const {
  if (in_topic_order_) {
    std::vector<const session::MessagePtr*> known;
    known.reserve(topic_order_.size());
    for (const session::MessagePtr& message : topic_order_) known.push_back(&message);
    return known;
  }
  // Sorting views of the topics reads each topic's bytes straight away,
  // not through its message, so that comparisons miss the cache less.
  std::vector<std::pair<std::string_view, const session::MessagePtr*>> entries;
  entries.reserve(retained_.size());
  for (const session::MessagePtr& message : retained_) entries.emplace_back(topic_of(*message), &message);
  std::sort(entries.begin(), entries.end(),
            [](const auto& a, const auto& b) { return mqtt::topic_level_less(a.first, b.first); });
  std::vector<const session::MessagePtr*> sorted;
  sorted.reserve(entries.size());
  for (const auto& entry : entries) sorted.push_back(entry.second);
  return sorted;
}

void State::for_each_record(const std::function<void(const Record&)>& emit) const {
  // Every body first, in id order: so the same state always gives the same
  // snapshot, and a reader sees ids only grow, which tells it that no id
  // was put twice (no settle_decoded_bodies() work). Then the retained
  // topics in topic order.
  struct Put {
    MessageId id;
    const session::MessagePtr* message;
    WallMs expires_at;
  };
  std::vector<Put> puts;
  puts.reserve(bodies_.size() + retained_.size());
  for (const auto& [id, body] : bodies_) puts.push_back(Put{id, &body.message, body.expires_at});
  for (const session::MessagePtr& message : retained_) {
    const MessageId id = message->store_id();
    if (bodies_.count(id) == 0) puts.push_back(Put{id, &message, retained_expiry(id)});
  }
  std::sort(puts.begin(), puts.end(), [](const Put& a, const Put& b) { return a.id < b.id; });
  for (const Put& put : puts) emit(MessagePut{put.id, *put.message, put.expires_at});
  puts = {};
  for (const session::MessagePtr* message : retained_in_topic_order())
    emit(RetainedSet{(*message)->store_id()});
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

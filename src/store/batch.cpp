// Batch building: records are framed (unsealed) as they are added, so the
// store thread only concatenates, numbers and checksums them.
#include "store/batch.h"

#include <algorithm>

namespace stellwerk::store {

std::optional<MessageId> MessageRegistry::find(const session::MessagePtr& message) const {
  auto it = entries_.find(message.get());
  if (it == entries_.end() || it->second.message.expired()) return std::nullopt;
  return it->second.id;
}

MessageId MessageRegistry::assign(const session::MessagePtr& message) {
  if (auto id = find(message)) return *id;
  if (entries_.size() >= prune_at_) prune();
  const MessageId id = next_++;
  entries_[message.get()] = Entry{message, id};
  return id;
}

void MessageRegistry::seed(const std::vector<std::pair<MessageId, session::MessagePtr>>& messages) {
  entries_.reserve(entries_.size() + messages.size());
  for (const auto& [id, message] : messages) entries_[message.get()] = Entry{message, id};
  // The seeded entries are live: pruning them at the next assign would be wasted work.
  prune_at_ = std::max<size_t>(prune_at_, entries_.size() * 2);
}

void MessageRegistry::start_after(MessageId highest) { next_ = std::max(next_, highest + 1); }

void MessageRegistry::prune() {
  std::erase_if(entries_, [](const auto& entry) { return entry.second.message.expired(); });
  // Prune again when the live entries have doubled: amortised O(1) per message.
  prune_at_ = std::max<size_t>(1024, entries_.size() * 2);
}

void Batch::add(const Record& record) {
  last_frame_ = bytes_.size();
  frame::append_unsealed(bytes_, record, false);
  ++records_;
}

std::string Batch::finish() {
  if (records_ > 0) frame::mark_batch_end(bytes_, last_frame_);
  records_ = 0;
  bodies_.clear();
  return std::move(bytes_);
}

MessageId Batch::body_of(const session::MessagePtr& message) {
  const MessageId id = registry_->assign(message);
  if (!bodies_.insert(id).second) return id;
  last_frame_ = bytes_.size();
  frame::append_unsealed_message_put(bytes_, id, *message, time_.to_wall(message->expires_at));
  ++records_;
  return id;
}

DeliveryRef Batch::delivery_ref(const session::Delivery& delivery) {
  return DeliveryRef{body_of(delivery.message), delivery.qos, delivery.retain, delivery.subscription_ids};
}

void Batch::retain(const session::MessagePtr& message) { add(record::RetainedSet{body_of(message)}); }

void Batch::clear_retained(std::string_view topic) { add(record::RetainedClear{std::string(topic)}); }

void Batch::put_session(std::string_view client_id, const SessionInfo& info) {
  add(record::SessionPut{std::string(client_id), info});
}

void Batch::delete_session(std::string_view client_id) { add(record::SessionDelete{std::string(client_id)}); }

void Batch::subscribe(std::string_view client_id, std::string_view filter, const session::Subscription& sub) {
  add(record::SubscriptionPut{std::string(client_id), std::string(filter), sub.options, sub.identifier});
}

void Batch::unsubscribe(std::string_view client_id, std::string_view filter) {
  add(record::SubscriptionDelete{std::string(client_id), std::string(filter)});
}

void Batch::enqueue(std::string_view client_id, const session::Delivery& delivery) {
  add(record::QueuePush{std::string(client_id), delivery_ref(delivery)});
}

void Batch::dequeue(std::string_view client_id, const session::MessagePtr& message) {
  // A message the store never saw is in no stored queue: nothing to remove.
  auto id = registry_->find(message);
  if (!id) return;
  add(record::QueueDrop{std::string(client_id), *id});
}

void Batch::start_inflight(std::string_view client_id, const session::MessagePtr& message, uint16_t packet_id,
                           session::InflightState state) {
  auto id = registry_->find(message);
  if (!id) return;
  add(record::QueueToInflight{std::string(client_id), *id, packet_id, state});
}

void Batch::put_inflight(std::string_view client_id, const session::Inflight& inflight) {
  add(record::InflightPut{std::string(client_id), inflight.packet_id, inflight.state,
                          delivery_ref(inflight.delivery)});
}

void Batch::set_inflight_state(std::string_view client_id, uint16_t packet_id, session::InflightState state) {
  add(record::InflightState{std::string(client_id), packet_id, state});
}

void Batch::complete_inflight(std::string_view client_id, uint16_t packet_id) {
  add(record::InflightDelete{std::string(client_id), packet_id});
}

void Batch::clear_messages(std::string_view client_id) { add(record::MessagesClear{std::string(client_id)}); }

void Batch::add_inbound_qos2(std::string_view client_id, uint16_t packet_id) {
  add(record::InboundQos2Add{std::string(client_id), packet_id});
}

void Batch::release_inbound_qos2(std::string_view client_id, uint16_t packet_id) {
  add(record::InboundQos2Remove{std::string(client_id), packet_id});
}

}  // namespace stellwerk::store

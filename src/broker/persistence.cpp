// What the broker records in the durable store, and how it rebuilds itself
// from what the store recovered. Every public entry point of the broker
// collects its records in one batch and, at the end of the call, commits it
// or, with deferred commits, leaves it for the caller to commit together
// with the records of later calls. Either way the output of the call is held
// by the Outbox until its records are durable, so no acknowledgement leaves
// before what it promises is on disk (docs/formats/store.md, "What the
// broker waits for").
#include "base/log.h"
#include "broker/broker.h"
#include "broker/client.h"
#include "store/store.h"

namespace stellwerk::broker {

// One batch serves every call: commit() empties it and it keeps its
// buffers, so recording allocates nothing per call. It takes the time of the
// call that adds its first record.
store::Batch* Broker::batch() {
  if (!store_) return nullptr;
  if (!batch_) {
    batch_ = std::make_unique<store::Batch>(store_->batch(store::TimeBase::now()));
  } else if (batch_->empty()) {
    batch_->set_time(store::TimeBase::now());
  }
  return batch_.get();
}

store::Batch* Broker::batch_for(const session::Session& session) {
  return session.persistent() ? batch() : nullptr;
}

void Broker::commit_batch() {
  if (!batch_ || batch_->empty()) return;
  if (defer_commits_) {
    // The batch is the store's only one, so nothing is committed before it:
    // the sequence its records will get is known now. A call that recorded
    // nothing itself but finds earlier calls' records waits for them too:
    // simpler, and its output is mostly queued behind theirs anyway.
    outbox_.hold_until(store_->sequence_after(*batch_));
    return;
  }
  commit_records();
}

void Broker::commit_records() {
  if (!batch_ || batch_->empty()) return;
  auto sequence = store_->commit(*batch_);
  if (!sequence) {
    // The store has failed for good and logged why; acknowledgements are
    // held from here on rather than promising what cannot be kept.
    outbox_.hold_until(UINT64_MAX);
    return;
  }
  outbox_.hold_until(sequence.value());
}

namespace {

// Whether the session's client was connected when the broker stopped. A
// stored session has no expiry deadline while a connection is attached;
// without one it is offline only with an expiry of "never", and then it
// keeps a will only while the will's delay runs (will_due_at). Such a
// session with neither a will nor an expiry to start needs nothing anyway.
bool was_connected(const store::SessionInfo& info) {
  if (info.expires_at != 0 || info.will_due_at != 0) return false;
  return info.will.has_value() || info.expiry_interval != session::Lifetime::kNever;
}

}  // namespace

void Broker::restore(const store::RecoveredState& state, TimePoint now) {
  const store::TimeBase time = store::TimeBase::now();
  for (const session::MessagePtr& message : state.retained) retained_.set(message->topic(), message);
  std::vector<session::Session*> were_connected;
  for (const store::RecoveredSession& recovered : state.sessions) {
    auto fresh = std::make_unique<session::Session>(next_session_id_++, recovered.client_id);
    session::Session& session = *fresh;
    session.lifetime() = store::to_lifetime(recovered.info, time);
    for (const auto& [filter, subscription] : recovered.subscriptions) {
      session.add_subscription(filter, subscription);
      (void)subscriptions_.subscribe(filter, session.id(), SubscriptionValue{subscription.options,
                                                                              subscription.identifier});
    }
    for (const session::Delivery& delivery : recovered.queue) session.restore_queued(delivery);
    for (const session::Inflight& entry : recovered.inflight) session.restore_inflight(entry);
    for (uint16_t packet_id : recovered.inbound_qos2) (void)session.begin_inbound_qos2(packet_id);
    sessions_by_id_[session.id()] = &session;
    file_session_deadline(session);
    sessions_.emplace(recovered.client_id, std::move(fresh));
    if (was_connected(recovered.info)) were_connected.push_back(&session);
  }
  // Their connections ended without a DISCONNECT, as in a network failure:
  // each will goes out, or its delay starts [MQTT-3.1.2-8], and each expiry
  // starts now. Only once every session is back, so that the wills reach
  // the sessions subscribed to them. With a store attached, this is recorded.
  for (session::Session* session : were_connected) detach_session(*session, true, now);
  commit_batch();
  log::notice("Restored {} retained messages and {} sessions from the store; {} were connected.",
              state.retained.size(), state.sessions.size(), were_connected.size());
}

}  // namespace stellwerk::broker

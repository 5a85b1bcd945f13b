// Snapshots of the running broker, a slice at a time (docs/formats/store.md,
// "Snapshots taken in slices"). Each slice is taken under the broker lock
// while workers wait, so it reads the state without changing it and stops
// after a bounded amount of work. It records exactly what the log's records
// describe: whatever the broker never records (the $SYS tree, sessions that
// end with their connection, QoS 0 queue entries) stays out, so that a
// snapshot followed by the log rebuilds what the log alone would.
#include <algorithm>

#include "broker/broker.h"
#include "store/batch.h"
#include "store/types.h"

namespace stellwerk::broker {
namespace {

// As many as `stellwerk ctl` pages through per lock; the design counts on a
// few hundred microseconds per slice (docs/design/snapshots-without-mirror.md).
constexpr size_t kSliceEntries = 1000;

using RetainedMessages = topics::RetainedTree<session::MessagePtr, topics::TopicOfPointee>;

// The broker rebuilds its $SYS values after a restart: they are never recorded
// (Broker::update_retained).
bool is_sys_topic(std::string_view topic) { return topic.starts_with("$SYS"); }

// Walks up to `budget` retained topics after the cursor's; returns how many.
// A skipped $SYS topic counts: it costs the lock as much as any other.
size_t add_retained(const RetainedMessages& retained, Broker::SnapshotCursor& cursor, store::Batch& out,
                    size_t budget) {
  std::optional<std::string_view> after;
  if (cursor.after_topic) after = *cursor.after_topic;
  size_t walked = 0;
  // The topic the walk passes may live only as long as the walk: the
  // message holds its own (a retained message's topic is its key).
  const session::Message* last = nullptr;
  retained.match_after("#", after, /*dollar_topics=*/true,
                       [&](std::string_view topic, const session::MessagePtr& message) {
                         if (!is_sys_topic(topic)) out.retain(message);
                         last = message.get();
                         return ++walked < budget;
                       });
  if (last) cursor.after_topic = last->topic();
  if (walked < budget) cursor.retained_done = true;
  return walked;
}

// Sessions that end with their connection are never recorded
// (Broker::record_session).
std::vector<std::string> persistent_client_ids(const session::SessionTable& sessions) {
  std::vector<std::string> ids;
  sessions.for_each([&](const session::Session& session) {
    if (session.persistent()) ids.push_back(session.client_id());
  });
  std::sort(ids.begin(), ids.end());
  return ids;
}

size_t entries_of(const session::Session& session) {
  return 1 + session.subscriptions().size() + session.queued_count() + session.inflight_count() +
         session.inbound_qos2_count();
}

// As SUBSCRIBE records them: the filter as the client sent it ($share/...
// included), with its options and identifier.
void add_subscriptions(const session::Session& session, store::Batch& out) {
  for (const auto& [filter, subscription] : session.subscriptions()) {
    out.subscribe(session.client_id(), filter, subscription);
  }
}

void add_messages(const session::Session& session, store::Batch& out) {
  for (const session::Delivery& delivery : session.queue()) {
    // QoS 0 carries no promise across a restart (Broker::deliver).
    if (delivery.qos != mqtt::QoS::at_most_once) out.enqueue(session.client_id(), delivery);
  }
  for (const session::Inflight& entry : session.inflight()) out.put_inflight(session.client_id(), entry);
  for (uint16_t packet_id : session.inbound_qos2()) out.add_inbound_qos2(session.client_id(), packet_id);
}

// The whole session, in the order a snapshot lists it; returns its entries.
size_t add_session(const session::Session& session, store::Batch& out, const store::TimeBase& time) {
  out.put_session(session.client_id(), store::to_info(session.lifetime(), time));
  add_subscriptions(session, out);
  add_messages(session, out);
  return entries_of(session);
}

// Whole sessions from the cursor's list until `budget` entries are walked.
// A listed session that is gone or no longer persistent counts one (its
// lookup), so that a list of vanished sessions cannot hold the lock long.
size_t add_sessions(const session::SessionTable& sessions, Broker::SnapshotCursor& cursor, store::Batch& out,
                    size_t budget) {
  const store::TimeBase time = store::TimeBase::now();
  size_t walked = 0;
  while (walked < budget && cursor.next_session < cursor.client_ids.size()) {
    const session::Session* session = sessions.find(cursor.client_ids[cursor.next_session++]);
    walked += session && session->persistent() ? add_session(*session, out, time) : 1;
  }
  return walked;
}

}  // namespace

bool Broker::snapshot_slice(SnapshotCursor& cursor, store::Batch& out) const {
  size_t walked = 0;
  if (!cursor.retained_done) walked += add_retained(retained_, cursor, out, kSliceEntries);
  if (cursor.retained_done && walked < kSliceEntries) {
    if (!cursor.sessions_listed) {
      cursor.client_ids = persistent_client_ids(sessions_);
      cursor.sessions_listed = true;
    }
    walked += add_sessions(sessions_, cursor, out, kSliceEntries - walked);
  }
  cursor.walked += walked;
  return walked > 0;
}

}  // namespace stellwerk::broker

// The mirror's rules: reference counting of bodies, the queue's "up to and
// including" removal, in-flight moves, and a snapshot that rebuilds an
// equal state.
#include "store/state.h"

#include <gtest/gtest.h>

namespace stellwerk::store {
namespace {

using namespace record;
using session::InflightState;

MessageBody body(std::string topic) {
  return MessageBody{std::move(topic), "p", mqtt::QoS::at_least_once, false, {}, 0};
}
DeliveryRef ref(MessageId id) { return DeliveryRef{id, mqtt::QoS::at_least_once, false, {}}; }

void apply_batch(State& state, const std::vector<Record>& records) {
  for (const Record& r : records) state.apply(r);
  state.end_batch();
}

State rebuilt(const State& state) {
  State copy;
  state.for_each_record([&](const Record& r) { copy.apply(r); });
  copy.end_batch();
  return copy;
}

TEST(State, UnreferencedBodyIsDroppedAtBatchEnd) {
  State state;
  apply_batch(state, {MessagePut{1, body("t")}});
  EXPECT_EQ(state.message_count(), 0u);
  apply_batch(state, {MessagePut{2, body("t")}, SessionPut{"c", {}}, QueuePush{"c", ref(2)}});
  EXPECT_EQ(state.message_count(), 1u);
  EXPECT_EQ(state.highest_message_id(), 2u);
}

TEST(State, BodySharedByQueuesAndRetainedLivesUntilTheLastReference) {
  State state;
  apply_batch(state, {SessionPut{"a", {}}, SessionPut{"b", {}}, MessagePut{1, body("t")}, RetainedSet{1},
                      QueuePush{"a", ref(1)}, QueuePush{"b", ref(1)}});
  apply_batch(state, {RetainedClear{"t"}, QueueDrop{"a", 1}});
  EXPECT_NE(state.body(1), nullptr);
  apply_batch(state, {SessionDelete{"b"}});
  EXPECT_EQ(state.body(1), nullptr);
}

TEST(State, RetainingTheSameBodyAgainKeepsIt) {
  State state;
  apply_batch(state, {MessagePut{1, body("t")}, RetainedSet{1}});
  apply_batch(state, {RetainedSet{1}});
  EXPECT_NE(state.body(1), nullptr);
  apply_batch(state, {MessagePut{2, body("t")}, RetainedSet{2}});
  EXPECT_EQ(state.body(1), nullptr);
  EXPECT_EQ(state.retained().at("t"), 2u);
}

TEST(State, QueueDropRemovesEverythingUpToTheEntry) {
  State state;
  apply_batch(state, {SessionPut{"c", {}}, MessagePut{1, body("x")}, MessagePut{2, body("y")},
                      MessagePut{3, body("z")}, QueuePush{"c", ref(1)}, QueuePush{"c", ref(2)},
                      QueuePush{"c", ref(3)}});
  apply_batch(state, {QueueDrop{"c", 2}});  // 1 expired unseen, 2 sent
  ASSERT_EQ(state.sessions().at("c").queue.size(), 1u);
  EXPECT_EQ(state.sessions().at("c").queue.front().message, 3u);
  EXPECT_EQ(state.message_count(), 1u);
  apply_batch(state, {QueueDrop{"c", 99}});  // not queued: nothing happens
  EXPECT_EQ(state.sessions().at("c").queue.size(), 1u);
}

TEST(State, QueueToInflightMovesTheEntryAndKeepsOrder) {
  State state;
  apply_batch(state, {SessionPut{"c", {}}, MessagePut{1, body("x")}, MessagePut{2, body("y")},
                      QueuePush{"c", ref(1)}, QueuePush{"c", ref(2)}});
  apply_batch(state, {QueueToInflight{"c", 1, 10, InflightState::awaiting_puback},
                      QueueToInflight{"c", 2, 11, InflightState::awaiting_pubrec}});
  const StoredSession& s = state.sessions().at("c");
  EXPECT_TRUE(s.queue.empty());
  ASSERT_EQ(s.inflight.size(), 2u);
  EXPECT_EQ(s.inflight[0].packet_id, 10u);
  EXPECT_EQ(s.inflight[1].state, InflightState::awaiting_pubrec);
  apply_batch(state,
              {record::InflightState{"c", 11, InflightState::awaiting_pubcomp}, InflightDelete{"c", 10}});
  EXPECT_EQ(state.message_count(), 1u);
  EXPECT_EQ(state.sessions().at("c").inflight.front().state, InflightState::awaiting_pubcomp);
}

TEST(State, InflightPutReplacesTheSamePacketId) {
  State state;
  apply_batch(state, {SessionPut{"c", {}}, MessagePut{1, body("x")},
                      InflightPut{"c", 5, InflightState::awaiting_puback, ref(1)}});
  apply_batch(state, {MessagePut{2, body("y")}, InflightPut{"c", 5, InflightState::awaiting_puback, ref(2)}});
  EXPECT_EQ(state.sessions().at("c").inflight.size(), 1u);
  EXPECT_EQ(state.body(1), nullptr);
}

TEST(State, RecordsForMissingThingsChangeNothing) {
  State state;
  apply_batch(state, {QueuePush{"nobody", ref(1)}, SubscriptionPut{"nobody", "a", {}, 0}, RetainedSet{3},
                      InflightDelete{"nobody", 1}, SessionDelete{"nobody"}, MessagesClear{"nobody"}});
  EXPECT_EQ(state, State());
  apply_batch(state, {SessionPut{"c", {}}, QueuePush{"c", ref(1)}});  // no body 1
  EXPECT_TRUE(state.sessions().at("c").queue.empty());
}

TEST(State, MessagesClearAndSessionPutKeepTheRightParts) {
  State state;
  apply_batch(state, {SessionPut{"c", {}}, SubscriptionPut{"c", "a/#", {}, 3}, MessagePut{1, body("x")},
                      QueuePush{"c", ref(1)}, InboundQos2Add{"c", 4}});
  apply_batch(state, {SessionPut{"c", SessionInfo{60, std::nullopt, 5, 0}}});
  EXPECT_EQ(state.sessions().at("c").queue.size(), 1u);
  EXPECT_EQ(state.sessions().at("c").info.expiry_interval, 60u);
  apply_batch(state, {MessagesClear{"c"}});
  const StoredSession& s = state.sessions().at("c");
  EXPECT_TRUE(s.queue.empty());
  EXPECT_TRUE(s.inbound_qos2.empty());
  EXPECT_EQ(s.subscriptions.size(), 1u);
  EXPECT_EQ(state.message_count(), 0u);
}

TEST(State, SnapshotRecordsRebuildAnEqualState) {
  State state;
  apply_batch(state, {SessionPut{"a", SessionInfo{1, mqtt::Will{"w", "p", {}, false, {}}, 0, 9}},
                      SessionPut{"b", {}}, SubscriptionPut{"a", "x/#", {}, 1}, MessagePut{1, body("t")},
                      MessagePut{2, body("u")}, RetainedSet{1}, QueuePush{"a", ref(2)},
                      QueuePush{"b", ref(1)}, InflightPut{"b", 3, InflightState::awaiting_pubrec, ref(2)},
                      InflightPut{"b", 1, InflightState::awaiting_puback, ref(1)}, InboundQos2Add{"a", 8}});
  const State copy = rebuilt(state);
  EXPECT_EQ(copy, state);
  EXPECT_EQ(copy.sessions().at("b").inflight[0].packet_id, 3u);  // send order, not id order
}

TEST(State, RecoveredMessagesAreSharedLikeTheBodies) {
  State state;
  apply_batch(state, {SessionPut{"a", {}}, SessionPut{"b", {}}, MessagePut{1, body("t")}, RetainedSet{1},
                      QueuePush{"a", ref(1)}, InflightPut{"b", 2, InflightState::awaiting_puback, ref(1)}});
  std::vector<std::pair<MessageId, session::MessagePtr>> ids;
  RecoveredState out = state.to_recovered(TimeBase::now(), &ids);
  ASSERT_EQ(out.sessions.size(), 2u);
  ASSERT_EQ(out.retained.size(), 1u);
  EXPECT_EQ(out.sessions[0].queue[0].message, out.retained[0]);
  EXPECT_EQ(out.sessions[1].inflight[0].delivery.message, out.retained[0]);
  EXPECT_EQ(out.sessions[1].inflight[0].packet_id, 2u);
  ASSERT_EQ(ids.size(), 1u);
  EXPECT_EQ(ids[0].second, out.retained[0]);
}

}  // namespace
}  // namespace stellwerk::store

// The mirror's rules: reference counting of bodies, the queue's "up to and
// including" removal, in-flight moves, and a snapshot that rebuilds an
// equal state.
#include "store/state.h"

#include <gtest/gtest.h>

#include "store_test_util.h"

namespace stellwerk::store {
namespace {

using namespace record;
using session::InflightState;

// A body as the broker hands it over: its own message, shared.
MessagePut put(MessageId id, std::string topic) {
  return MessagePut{id, testing::make_message(std::move(topic), "p", mqtt::QoS::at_least_once, false), 0};
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
  apply_batch(state, {put(1, "t")});
  EXPECT_EQ(state.message_count(), 0u);
  apply_batch(state, {put(2, "t"), SessionPut{"c", {}}, QueuePush{"c", ref(2)}});
  EXPECT_EQ(state.message_count(), 1u);
  EXPECT_EQ(state.highest_message_id(), 2u);
}

TEST(State, BodySharedByQueuesAndRetainedLivesUntilTheLastReference) {
  State state;
  apply_batch(state, {SessionPut{"a", {}}, SessionPut{"b", {}}, put(1, "t"), RetainedSet{1},
                      QueuePush{"a", ref(1)}, QueuePush{"b", ref(1)}});
  apply_batch(state, {RetainedClear{"t"}, QueueDrop{"a", 1}});
  EXPECT_NE(state.message(1), nullptr);
  apply_batch(state, {SessionDelete{"b"}});
  EXPECT_EQ(state.message(1), nullptr);
}

TEST(State, RetainingTheSameBodyAgainKeepsIt) {
  State state;
  apply_batch(state, {put(1, "t"), RetainedSet{1}});
  apply_batch(state, {RetainedSet{1}});
  EXPECT_NE(state.message(1), nullptr);
  apply_batch(state, {put(2, "t"), RetainedSet{2}});
  EXPECT_EQ(state.message(1), nullptr);
  ASSERT_NE(state.retained("t"), nullptr);
  EXPECT_EQ(state.retained("t")->store_id(), 2u);
}

TEST(State, QueueDropRemovesEverythingUpToTheEntry) {
  State state;
  apply_batch(state, {SessionPut{"c", {}}, put(1, "x"), put(2, "y"),
                      put(3, "z"), QueuePush{"c", ref(1)}, QueuePush{"c", ref(2)},
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
  apply_batch(state, {SessionPut{"c", {}}, put(1, "x"), put(2, "y"),
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
  apply_batch(state, {SessionPut{"c", {}}, put(1, "x"),
                      InflightPut{"c", 5, InflightState::awaiting_puback, ref(1)}});
  apply_batch(state, {put(2, "y"), InflightPut{"c", 5, InflightState::awaiting_puback, ref(2)}});
  EXPECT_EQ(state.sessions().at("c").inflight.size(), 1u);
  EXPECT_EQ(state.message(1), nullptr);
}

TEST(State, QueuePushInflightIsAPushThenItsMoveToInflight) {
  // A stale entry before the pushed one (an expired message the broker
  // dropped without a record) goes with it either way.
  const std::vector<Record> before{SessionPut{"c", {}}, put(1, "old"), QueuePush{"c", ref(1)}};
  State two_records;
  apply_batch(two_records, before);
  apply_batch(two_records, {put(2, "x"), QueuePush{"c", ref(2)},
                            QueueToInflight{"c", 2, 7, InflightState::awaiting_puback}});
  State one_record;
  apply_batch(one_record, before);
  apply_batch(one_record, {put(2, "x"), QueuePushInflight{"c", 7, InflightState::awaiting_puback, ref(2)}});
  EXPECT_EQ(one_record, two_records);
  EXPECT_TRUE(one_record.sessions().at("c").queue.empty());
  ASSERT_EQ(one_record.sessions().at("c").inflight.size(), 1u);
  EXPECT_EQ(one_record.message(1), nullptr);
}

TEST(State, ManyInflightEntriesAreFoundByPacketId) {
  // Past a few entries an index finds packet ids; it must agree with a scan
  // as entries come and go, and replace an entry that is already there.
  State state;
  apply_batch(state, {SessionPut{"c", {}}});
  for (uint16_t id = 1; id <= 40; ++id) {
    apply_batch(state, {put(id, "t"), InflightPut{"c", id, InflightState::awaiting_puback, ref(id)}});
  }
  for (uint16_t id = 1; id <= 10; ++id) apply_batch(state, {InflightDelete{"c", id}});
  InflightDeleteMany together{"c", {}};  // a loop turn's PUBACKs
  for (uint16_t id = 11; id <= 30; ++id) together.packet_ids.push_back(id);
  apply_batch(state, {together});
  apply_batch(state, {put(100, "t"), InflightPut{"c", 35, InflightState::awaiting_puback, ref(100)}});
  apply_batch(state, {put(101, "t"), InflightPut{"c", 5, InflightState::awaiting_puback, ref(101)}});
  const auto& inflight = state.sessions().at("c").inflight;
  ASSERT_EQ(inflight.size(), 11u);
  EXPECT_EQ(state.message(35), nullptr);
  EXPECT_EQ(inflight[4].delivery.message, 100u);
  EXPECT_EQ(inflight.back().packet_id, 5);
  EXPECT_EQ(state, rebuilt(state));
}

TEST(State, AMovedStateFindsItsSessions) {
  State original;
  apply_batch(original, {SessionPut{"a", {}}, SessionPut{"b", {}}});
  State moved = std::move(original);
  apply_batch(moved, {put(1, "t"), InflightPut{"a", 1, InflightState::awaiting_puback, ref(1)}, SessionDelete{"b"}});
  apply_batch(moved, {SessionPut{"b", {}}, SubscriptionPut{"b", "x/#", {}, 0}});
  EXPECT_EQ(moved.sessions().at("a").inflight.size(), 1u);
  EXPECT_EQ(moved.sessions().at("b").subscriptions.size(), 1u);
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
  apply_batch(state, {SessionPut{"c", {}}, SubscriptionPut{"c", "a/#", {}, 3}, put(1, "x"),
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
                      SessionPut{"b", {}}, SubscriptionPut{"a", "x/#", {}, 1}, put(1, "t"),
                      put(2, "u"), RetainedSet{1}, QueuePush{"a", ref(2)},
                      QueuePush{"b", ref(1)}, InflightPut{"b", 3, InflightState::awaiting_pubrec, ref(2)},
                      InflightPut{"b", 1, InflightState::awaiting_puback, ref(1)}, InboundQos2Add{"a", 8}});
  const State copy = rebuilt(state);
  EXPECT_EQ(copy, state);
  EXPECT_EQ(copy.sessions().at("b").inflight[0].packet_id, 3u);  // send order, not id order
}

TEST(State, KeepsTheBrokersMessageItselfNotACopy) {
  State state;
  const MessagePut body = put(1, "t");
  apply_batch(state, {body, RetainedSet{1}});
  EXPECT_EQ(state.message(1), body.message.get());
  EXPECT_EQ(body.message.use_count(), 2);  // this test and the state
  // The retained set holds the message itself: no second copy of its topic.
  EXPECT_EQ(state.retained("t"), body.message.get());
}

TEST(State, ARetainedTopicHoldsItsNewBody) {
  State state;
  apply_batch(state, {put(1, "t"), RetainedSet{1}});
  MessagePut replacement = put(2, "t");
  const session::Message* new_body = replacement.message.get();
  apply_batch(state, {std::move(replacement), RetainedSet{2}});
  EXPECT_EQ(state.message(1), nullptr);
  ASSERT_EQ(state.retained_count(), 1u);
  EXPECT_EQ(state.retained("t"), new_body);
  apply_batch(state, {RetainedClear{"t"}});
  EXPECT_EQ(state.retained_count(), 0u);
  EXPECT_EQ(state.message_count(), 0u);
}

std::vector<Record> records_of(const State& state) {
  std::vector<Record> records;
  state.for_each_record([&](const Record& r) { records.push_back(r); });
  return records;
}

TEST(State, SnapshotRecordsDoNotDependOnHistory) {
  // The same retained topics and queued bodies, reached in different orders
  // and through replaced and cleared topics: the snapshot lists the same records.
  State forward, backward;
  for (MessageId id = 1; id <= 200; ++id) {
    apply_batch(forward, {put(id, "t/" + std::to_string(id)), RetainedSet{id}});
  }
  apply_batch(backward, {put(900, "gone"), RetainedSet{900}, put(901, "t/7"), RetainedSet{901}});
  for (MessageId id = 200; id >= 1; --id) {
    apply_batch(backward, {put(id, "t/" + std::to_string(id)), RetainedSet{id}});
  }
  apply_batch(backward, {RetainedClear{"gone"}});
  for (State* state : {&forward, &backward}) {
    apply_batch(*state, {SessionPut{"c", {}}, put(300, "q"), put(301, "r"), QueuePush{"c", ref(301)},
                         QueuePush{"c", ref(300)}, QueuePush{"c", ref(5)}});
  }
  // Body 5 is put in no batch of the queue push: found neither way.
  const std::vector<Record> records = records_of(forward);
  EXPECT_EQ(records, records_of(backward));
  // Every body first, by id (retained or held), then the retained entries in topic order.
  EXPECT_EQ(std::get<MessagePut>(records[0]).message->topic(), "t/1");
  EXPECT_EQ(std::get<MessagePut>(records[1]).message->topic(), "t/2");
  EXPECT_EQ(std::get<MessagePut>(records[199]).id, 200u);
  EXPECT_EQ(std::get<MessagePut>(records[200]).id, 300u);
  EXPECT_EQ(std::get<MessagePut>(records[201]).id, 301u);
  EXPECT_EQ(std::get<RetainedSet>(records[202]).id, 1u);
  EXPECT_EQ(std::get<RetainedSet>(records[203]).id, 10u);
}

TEST(State, ASnapshotPutsIdsInRisingOrderSoReadingItSettlesNothing) {
  // Retained topics whose ids do not follow their topic order, and a queued body in between.
  State state;
  apply_batch(state, {put(7, "a"), RetainedSet{7}, put(3, "b"), RetainedSet{3}, SessionPut{"c", {}},
                      put(5, "q"), QueuePush{"c", ref(5)}});
  MessageId last = 0;
  state.for_each_record([&](const Record& r) {
    if (const auto* body = std::get_if<MessagePut>(&r)) {
      EXPECT_GT(body->id, last);
      last = body->id;
    }
  });
  EXPECT_EQ(last, 7u);
  EXPECT_EQ(rebuilt(state), state);
}

TEST(State, KeptTopicOrderGivesTheSameStateAsLookups) {
  // Rising topics go in without lookups; a replacement, a topic out of
  // order and a clear each end that, and the state is the same either way.
  const std::vector<Record> history{put(1, "a"),    RetainedSet{1}, put(2, "b"),
                                    RetainedSet{2}, put(3, "c"),    RetainedSet{3}};
  const std::vector<std::vector<Record>> endings{{put(4, "b"), RetainedSet{4}},
                                                 {put(5, "0"), RetainedSet{5}},
                                                 {RetainedClear{"a"}},
                                                 {put(6, "d"), RetainedSet{6}}};
  for (const std::vector<Record>& ending : endings) {
    State ordered, plain;
    ordered.keep_topic_order(true);
    for (State* state : {&ordered, &plain}) {
      apply_batch(*state, history);
      apply_batch(*state, ending);
      apply_batch(*state, {put(7, "e"), RetainedSet{7}});
    }
    EXPECT_EQ(ordered, plain);
    EXPECT_EQ(records_of(ordered), records_of(plain));
    EXPECT_EQ(ordered.to_recovered(testing::fixed_time()).retained.size(), plain.retained_count());
    ordered.keep_topic_order(false);
    EXPECT_EQ(records_of(ordered), records_of(plain));
  }
}

TEST(State, ARetainedBodysExpirySurvivesTheSnapshot) {
  const TimeBase time = testing::fixed_time();
  State state;
  const MessagePut expiring{1, testing::make_message("t", "p", mqtt::QoS::at_least_once, true), time.wall + 5000};
  apply_batch(state, {expiring, RetainedSet{1}});
  const State copy = rebuilt(state);
  EXPECT_EQ(copy, state);
  EXPECT_EQ(std::get<MessagePut>(records_of(copy)[0]).expires_at, time.wall + 5000);
  // Replaced by a body without an expiry: the old expiry goes with it.
  apply_batch(state, {put(2, "t"), RetainedSet{2}});
  EXPECT_EQ(std::get<MessagePut>(records_of(state)[0]).expires_at, 0);
  EXPECT_EQ(state, rebuilt(state));
}

TEST(State, RenumberingKeepsARetainedAndQueuedBodyOneMessage) {
  State state;
  apply_batch(state, {SessionPut{"c", {}}, put(70, "t"), RetainedSet{70}, QueuePush{"c", ref(70)},
                      put(50, "u"), RetainedSet{50}, put(60, "v"), QueuePush{"c", ref(60)}});
  state.renumber_messages();
  EXPECT_EQ(state.highest_message_id(), 3u);
  EXPECT_EQ(state.message_count(), 3u);
  const StoredSession& session = state.sessions().at("c");
  ASSERT_EQ(session.queue.size(), 2u);
  EXPECT_EQ(state.message(session.queue[0].message), state.retained("t"));
  EXPECT_EQ(state.retained("t")->store_id(), session.queue[0].message);
  EXPECT_EQ(state, rebuilt(state));
}

TEST(State, ABodyDecodedTwiceIsHandedOutAsOneMessage) {
  // Recovery decodes the body of each message_put: a retained body that a
  // later batch put again to queue it is two equal messages in the state.
  State state;
  apply_batch(state, {SessionPut{"c", {}}, put(1, "t"), RetainedSet{1}});
  apply_batch(state, {put(1, "t"), QueuePush{"c", ref(1)}});
  state.settle_decoded_bodies();
  RecoveredState out = state.to_recovered(TimeBase::now());
  ASSERT_EQ(out.retained.size(), 1u);
  EXPECT_EQ(out.sessions[0].queue[0].message, out.retained[0]);
  EXPECT_EQ(state.message_count(), 1u);
  EXPECT_EQ(state, rebuilt(state));
}

TEST(State, OneIdForTwoMessagesInADamagedLogIsSettledApart) {
  // Only a damaged or forged log does this; a snapshot must still say what
  // the state holds, or recovery would change it by rewriting it.
  State state;
  apply_batch(state, {SessionPut{"c", {}}, put(1, "t"), RetainedSet{1}});
  apply_batch(state, {put(1, "v"), RetainedSet{1}});
  apply_batch(state, {put(1, "u"), QueuePush{"c", ref(1)}});
  state.settle_decoded_bodies();
  ASSERT_NE(state.retained("t"), nullptr);
  ASSERT_NE(state.retained("v"), nullptr);
  // The queue keeps id 1; the two retained messages get ids of their own.
  EXPECT_EQ(state.message(1)->topic(), "u");
  EXPECT_NE(state.retained("t")->store_id(), state.retained("v")->store_id());
  EXPECT_GT(state.retained("t")->store_id(), 1u);
  EXPECT_GT(state.retained("v")->store_id(), 1u);
  EXPECT_EQ(state.message_count(), 3u);
  EXPECT_EQ(state, rebuilt(state));
}

TEST(State, EqualityComparesBodiesByContent) {
  State a, b;
  apply_batch(a, {put(1, "t"), RetainedSet{1}});
  apply_batch(b, {put(1, "t"), RetainedSet{1}});  // another message, same content
  EXPECT_EQ(a, b);
  State c;
  apply_batch(c, {MessagePut{1, testing::make_message("t", "other", mqtt::QoS::at_least_once, false), 0},
                  RetainedSet{1}});
  EXPECT_FALSE(a == c);
}

TEST(State, RecoveredMessagesAreTheBodiesAndOnlyExpiringOnesAreCopied) {
  const TimeBase time = testing::fixed_time();
  State state;
  const MessagePut plain = put(1, "t");
  const MessagePut expiring{2, testing::make_message("u", "p", mqtt::QoS::at_least_once, true), time.wall + 9000};
  apply_batch(state, {plain, expiring, RetainedSet{1}, RetainedSet{2}});
  RecoveredState out = state.to_recovered(time);
  ASSERT_EQ(out.retained.size(), 2u);
  for (const session::MessagePtr& message : out.retained) {
    if (message->topic() == "t") {
      EXPECT_EQ(message, plain.message);
      EXPECT_FALSE(message->expires_at());
    } else {
      EXPECT_NE(message, expiring.message);
      EXPECT_EQ(message->expires_at(), time.steady + std::chrono::seconds(9));
      EXPECT_EQ(message->payload(), "p");
      EXPECT_EQ(message->store_id(), 2u);
    }
  }
}

TEST(State, RecoveredRetainedMessagesComeInTopicOrder) {
  State state;
  apply_batch(state, {put(1, "m"), put(2, "b/2"), put(3, "z"), put(4, "b/1"), RetainedSet{1}, RetainedSet{2},
                      RetainedSet{3}, RetainedSet{4}});
  std::vector<std::string> topics;
  for (const auto& message : state.to_recovered(TimeBase::now()).retained) topics.emplace_back(message->topic());
  EXPECT_EQ(topics, (std::vector<std::string>{"b/1", "b/2", "m", "z"}));
}

TEST(State, RecoveredMessagesAreSharedLikeTheBodies) {
  State state;
  apply_batch(state, {SessionPut{"a", {}}, SessionPut{"b", {}}, put(1, "t"), RetainedSet{1},
                      QueuePush{"a", ref(1)}, InflightPut{"b", 2, InflightState::awaiting_puback, ref(1)}});
  RecoveredState out = state.to_recovered(TimeBase::now());
  ASSERT_EQ(out.sessions.size(), 2u);
  ASSERT_EQ(out.retained.size(), 1u);
  EXPECT_EQ(out.sessions[0].queue[0].message, out.retained[0]);
  EXPECT_EQ(out.sessions[1].inflight[0].delivery.message, out.retained[0]);
  EXPECT_EQ(out.sessions[1].inflight[0].packet_id, 2u);
  EXPECT_EQ(out.retained[0]->store_id(), 1u);  // the store names it again without a lookup
}

}  // namespace
}  // namespace stellwerk::store

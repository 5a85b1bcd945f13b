// Session bookkeeping: packet ids of outbound QoS 1/2 messages, with windows
// narrow (ids found by a scan) and wide (ids tracked in a bitmap).
#include "session/session.h"

#include <gtest/gtest.h>

#include <set>

namespace stellwerk::session {
namespace {

Delivery qos1_delivery() {
  auto message = Message::create("t", {}, {.qos = mqtt::QoS::at_least_once});
  return Delivery{message, mqtt::QoS::at_least_once, false, {}};
}

// [MQTT-2.2.1-3]: a packet id in use is never given to another message.
TEST(SessionPacketIds, NeverReusesAnIdInFlight) {
  for (size_t window : {4u, 31u, 32u, 33u, 1000u, 65535u}) {
    Session session(1, "c");
    std::set<uint16_t> in_flight;
    for (size_t i = 0; i < window; ++i)
      ASSERT_TRUE(in_flight.insert(session.start_inflight(qos1_delivery()).packet_id).second);
    // Complete every other one, then fill the window again: ids wrap around.
    for (auto it = in_flight.begin(); it != in_flight.end();) {
      ASSERT_TRUE(session.complete_inflight(*it, InflightState::awaiting_puback));
      it = in_flight.erase(it);
      if (it != in_flight.end()) ++it;
    }
    while (in_flight.size() < window) {
      ASSERT_TRUE(in_flight.insert(session.start_inflight(qos1_delivery()).packet_id).second) << window;
    }
    EXPECT_EQ(session.inflight_count(), window);
  }
}

TEST(SessionPacketIds, ClearingFreesEveryId) {
  Session session(1, "c");
  for (int i = 0; i < 100; ++i) (void)session.start_inflight(qos1_delivery());
  session.clear_messages();
  EXPECT_EQ(session.inflight_count(), 0u);
  EXPECT_EQ(session.start_inflight(qos1_delivery()).packet_id, 101);
}

TEST(SessionPacketIds, RestoredIdsAreKnownInUse) {
  Session session(1, "c");
  for (uint16_t id = 65500; id != 0; ++id)
    session.restore_inflight(Inflight{id, InflightState::awaiting_puback, qos1_delivery()});
  // last id is 65535: the next ones wrap to 1, skipping nothing in use.
  EXPECT_EQ(session.start_inflight(qos1_delivery()).packet_id, 1);
}

// An idle session keeps its message state on the heap only while it has
// any (session.h, Traffic). Ending a retained backlog may free that state,
// but never what a fresh one would not have: the packet id sequence and
// the counters go on.
TEST(SessionTraffic, AFreshSessionAnswersWithoutMessageState) {
  const Session session(1, "c");
  EXPECT_FALSE(session.has_queued());
  EXPECT_EQ(session.queued_count(), 0u);
  EXPECT_EQ(session.queued_bytes(), 0u);
  EXPECT_EQ(session.inflight_count(), 0u);
  EXPECT_TRUE(session.inflight().begin() == session.inflight().end());
  EXPECT_EQ(session.inbound_qos2_count(), 0u);
  EXPECT_FALSE(session.has_retained_backlog());
  EXPECT_EQ(session.counters().dropped_queue_full, 0u);
  EXPECT_TRUE(session.subscriptions().empty());
}

TEST(SessionTraffic, PacketIdsGoOnAfterABacklogEnds) {
  Session session(1, "c");
  EXPECT_EQ(session.start_inflight(qos1_delivery()).packet_id, 1);
  ASSERT_TRUE(session.complete_inflight(1, InflightState::awaiting_puback));
  session.add_retained_backlog(RetainedBacklog{"#", mqtt::QoS::at_least_once, 0, std::nullopt, {}, true});
  ASSERT_TRUE(session.has_retained_backlog());
  session.finish_retained_backlog();
  EXPECT_FALSE(session.has_retained_backlog());
  EXPECT_EQ(session.start_inflight(qos1_delivery()).packet_id, 2);
}

TEST(SessionTraffic, CountersSurviveTheEndOfABacklog) {
  Session session(1, "c");
  QueueLimits limits;
  limits.max_messages = 1;
  ASSERT_TRUE(session.enqueue(qos1_delivery(), limits, true));
  EXPECT_FALSE(session.enqueue(qos1_delivery(), limits, true));
  ASSERT_TRUE(session.take_sendable(10, TimePoint{}));
  session.add_retained_backlog(RetainedBacklog{"a/#", mqtt::QoS::at_most_once, 0, std::nullopt, {}, true});
  EXPECT_TRUE(session.drop_retained_backlog("a/#"));
  EXPECT_EQ(session.counters().dropped_queue_full, 1u);
}

// sends_at_once() says when enqueue() then take_sendable() would hand the
// delivery straight back, so the broker may skip the queue: never past a
// queued message (order per subscription, [MQTT-4.6.0-6]), at QoS 1/2 past
// a full window, over max_bytes, or for an expired message.
TEST(SessionTraffic, SendsAtOnceOnlyWhatTheQueueWouldHandBackAtOnce) {
  Session session(1, "c");
  QueueLimits limits;
  const TimePoint now{std::chrono::seconds(100)};
  EXPECT_TRUE(session.sends_at_once(qos1_delivery(), limits, 1, now));
  const Delivery qos0{Message::create("t", {}, {}), mqtt::QoS::at_most_once, false, {}};
  EXPECT_TRUE(session.sends_at_once(qos0, limits, 1, now));
  auto expired = Message::create("t", {}, {.qos = mqtt::QoS::at_least_once, .expires_at = now});
  EXPECT_FALSE(session.sends_at_once(Delivery{expired, mqtt::QoS::at_least_once, false, {}}, limits, 1, now));
  QueueLimits small;
  small.max_bytes = 1;
  EXPECT_FALSE(session.sends_at_once(qos1_delivery(), small, 1, now));

  (void)session.start_inflight(qos1_delivery());
  EXPECT_FALSE(session.sends_at_once(qos1_delivery(), limits, 1, now));  // the window is full
  EXPECT_TRUE(session.sends_at_once(qos0, limits, 1, now));              // QoS 0 takes no place in it
  EXPECT_TRUE(session.sends_at_once(qos1_delivery(), limits, 2, now));
  ASSERT_TRUE(session.enqueue(qos1_delivery(), limits, true));
  EXPECT_FALSE(session.sends_at_once(qos1_delivery(), limits, 2, now));  // one waits before it
  EXPECT_FALSE(session.sends_at_once(qos0, limits, 2, now));             // and QoS 0 waits behind it too
}

TEST(SessionTraffic, InboundQos2IdsWithoutOtherTraffic) {
  Session session(1, "c");
  EXPECT_FALSE(session.release_inbound_qos2(5));
  EXPECT_TRUE(session.begin_inbound_qos2(5));
  EXPECT_FALSE(session.begin_inbound_qos2(5));
  EXPECT_EQ(session.inbound_qos2_count(), 1u);
  EXPECT_TRUE(session.release_inbound_qos2(5));
  EXPECT_EQ(session.inbound_qos2_count(), 0u);
}

TEST(SessionOnline, AttachedConnectionIsRemembered) {
  Session session(1, "c");
  EXPECT_FALSE(session.online());
  session.attach(42);
  EXPECT_TRUE(session.online());
  EXPECT_EQ(session.connection(), 42u);
  session.detach();
  EXPECT_FALSE(session.online());
  EXPECT_EQ(session.connection(), 0u);
}

TEST(SessionSubscriptions, AddReplaceRemove) {
  Session session(1, "c");
  EXPECT_TRUE(session.add_subscription("a/+", Subscription{}));
  EXPECT_FALSE(session.add_subscription("a/+", Subscription{{}, 3}));
  EXPECT_EQ(session.subscriptions().size(), 1u);
  EXPECT_EQ(session.subscriptions().find("a/+")->identifier, 3u);
  EXPECT_TRUE(session.remove_subscription("a/+"));
  EXPECT_FALSE(session.remove_subscription("a/+"));
  EXPECT_TRUE(session.subscriptions().empty());
}

}  // namespace
}  // namespace stellwerk::session

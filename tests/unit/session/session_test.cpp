// Session bookkeeping: packet ids of outbound QoS 1/2 messages, with windows
// narrow (ids found by a scan) and wide (ids tracked in a bitmap).
#include "session/session.h"

#include <gtest/gtest.h>

#include <set>

namespace stellwerk::session {
namespace {

Delivery qos1_delivery() {
  auto message = std::make_shared<Message>();
  message->topic = "t";
  message->qos = mqtt::QoS::at_least_once;
  return Delivery{message, mqtt::QoS::at_least_once, false, {}};
}

// [MQTT-2.2.1-3]: a packet id in use is never given to another message.
TEST(SessionPacketIds, NeverReusesAnIdInFlight) {
  for (size_t window : {4u, 31u, 32u, 33u, 1000u, 65535u}) {
    Session session(1, "c");
    std::set<uint16_t> in_flight;
    for (size_t i = 0; i < window; ++i) ASSERT_TRUE(in_flight.insert(session.start_inflight(qos1_delivery()).packet_id).second);
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
  for (uint16_t id = 65500; id != 0; ++id) session.restore_inflight(Inflight{id, InflightState::awaiting_puback, qos1_delivery()});
  // last id is 65535: the next ones wrap to 1, skipping nothing in use.
  EXPECT_EQ(session.start_inflight(qos1_delivery()).packet_id, 1);
}

}  // namespace
}  // namespace stellwerk::session

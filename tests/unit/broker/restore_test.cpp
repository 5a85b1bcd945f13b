// Restoring sessions whose client was connected when the broker died: the
// restart counts as the network connection closing without a DISCONNECT, so
// each will goes out or its delay starts [MQTT-3.1.2-8], and each session's
// expiry starts. The broker here is attached to its store before restore(),
// so what the restore does is itself stored.
#include <gtest/gtest.h>

#include "stored_broker.h"

namespace stellwerk::broker::testing {
namespace {

using mqtt::QoS;
using mqtt::Version;
using namespace std::chrono_literals;

class RestoreTest : public StoredBrokerTest {
 protected:
  static mqtt::Connect client(const std::string& id, Version version, std::optional<mqtt::Will> will = {}) {
    mqtt::Connect c;
    c.version = version;
    c.protocol_name = "MQTT";
    c.client_id = id;
    c.clean_start = false;
    if (version == Version::v5) c.properties.session_expiry_interval = 3600;
    c.will = std::move(will);
    return c;
  }
  static mqtt::Will will(uint32_t delay_seconds = 0) {
    mqtt::Will w{"status/device", "lost", QoS::at_least_once, false, {}};
    if (delay_seconds) w.properties.will_delay_interval = delay_seconds;
    return w;
  }
  // A persistent watcher subscribed to status/# and a device with `w`, both
  // connected when the broker crashes.
  void crash_with_both_connected(Version version, const mqtt::Will& w) {
    start();
    harness->connect(1, client("watcher", Version::v5));
    harness->send(1, subscribe(1, "status/#", QoS::at_least_once));
    harness->connect(2, client("device", version, w));
    crash();
  }
  // What the watcher gets when it comes back.
  std::vector<std::string> watcher_receives(ConnectionId id) {
    std::vector<std::string> payloads;
    for (const mqtt::Packet& packet : harness->connect(id, client("watcher", Version::v5))) {
      if (std::holds_alternative<mqtt::Publish>(packet)) payloads.push_back(std::get<mqtt::Publish>(packet).payload);
    }
    return payloads;
  }
};

TEST_F(RestoreTest, WillOfAV311ClientConnectedAtTheCrashIsPublished_MQTT_3_1_2_8) {
  crash_with_both_connected(Version::v311, will());  // session expiry "never"
  start();
  EXPECT_EQ(watcher_receives(10), std::vector<std::string>{"lost"});
}

TEST_F(RestoreTest, WillOfAV5ClientConnectedAtTheCrashIsPublished_MQTT_3_1_2_8) {
  crash_with_both_connected(Version::v5, will());
  start();
  EXPECT_EQ(watcher_receives(10), std::vector<std::string>{"lost"});
}

TEST_F(RestoreTest, TheWillIsRecordedAsSentAndNotPublishedAgainAfterTheNextCrash_MQTT_3_1_2_10) {
  crash_with_both_connected(Version::v5, will());
  start();  // publishes the will into the watcher's stored queue
  crash();
  start();
  auto reply = harness->connect(10, client("watcher", Version::v5));
  ASSERT_EQ(reply.size(), 2u);  // CONNACK and the will, from the stored queue
  const auto& delivered = as<mqtt::Publish>(reply[1]);
  EXPECT_EQ(delivered.payload, "lost");
  harness->send(10, mqtt::Ack{mqtt::PacketType::puback, delivered.packet_id});
  crash();
  start();
  EXPECT_TRUE(watcher_receives(11).empty());
}

TEST_F(RestoreTest, AWillDelayStartsAtTheRestart_MQTT_3_1_2_8) {
  crash_with_both_connected(Version::v5, will(30));
  start();
  harness->advance(29s);
  EXPECT_TRUE(watcher_receives(10).empty());
  harness->broker.on_close(10, "watcher goes again", harness->clock.now());
  harness->advance(2s);
  EXPECT_EQ(watcher_receives(11), std::vector<std::string>{"lost"});
}

TEST_F(RestoreTest, TheSessionExpiryStartsAtTheRestart) {
  start();
  mqtt::Connect short_lived = client("device", Version::v5);
  short_lived.properties.session_expiry_interval = 60;
  harness->connect(1, short_lived);
  harness->send(1, subscribe(1, "commands", QoS::at_least_once));
  crash();
  start();
  harness->advance(61s);
  auto reply = harness->connect(2, short_lived);
  ASSERT_FALSE(reply.empty());
  EXPECT_FALSE(as<mqtt::Connack>(reply[0]).session_present);
}

TEST_F(RestoreTest, AClientThatLeftWithDisconnectHasNoWillAtTheRestart_MQTT_3_1_2_10) {
  start();
  harness->connect(1, client("watcher", Version::v5));
  harness->send(1, subscribe(1, "status/#", QoS::at_least_once));
  harness->connect(2, client("device", Version::v311, will()));
  harness->send(2, mqtt::Disconnect{});
  crash();
  start();
  EXPECT_TRUE(watcher_receives(10).empty());
}

}  // namespace
}  // namespace stellwerk::broker::testing

// The broker's use of AccessControl: pending verdicts, refusals, and the ACL
// checks on PUBLISH, SUBSCRIBE and every delivery.
#include <gtest/gtest.h>

#include "broker_harness.h"

namespace stellwerk::broker::testing {
namespace {

using mqtt::PacketType;
using mqtt::QoS;
using mqtt::ReasonCode;
using mqtt::Version;

// Passwords are "good"; user "slow" gets a pending verdict. Topics under
// "secret/" are readable and writable only by user "admin".
class FakeAccess final : public AccessControl {
 public:
  std::optional<bool> authenticate(uint64_t connection, const ClientIdentity& identity,
                                   const std::optional<std::string>& password) override {
    if (identity.username == "slow") {
      pending.push_back(connection);
      return std::nullopt;
    }
    return password == "good";
  }
  bool can_publish(const ClientIdentity& identity, std::string_view topic) const override {
    return allowed(identity, topic);
  }
  bool can_subscribe(const ClientIdentity& identity, std::string_view filter) const override {
    return allowed(identity, filter);
  }
  bool can_read(const ClientIdentity& identity, std::string_view topic) const override {
    return allowed(identity, topic);
  }
  std::vector<uint64_t> pending;

 private:
  static bool allowed(const ClientIdentity& identity, std::string_view topic) {
    return !topic.starts_with("secret/") || identity.username == "admin";
  }
};

class AccessHarness : public BrokerHarness {
 public:
  AccessHarness() : BrokerHarness(BrokerConfig{}, &access) {}
  std::vector<mqtt::Packet> login(ConnectionId id, const std::string& user, Version version = Version::v5,
                                  const std::string& password = "good") {
    mqtt::Connect c;
    c.version = version;
    c.client_id = "c" + std::to_string(id);
    c.username = user;
    c.password = password;
    return connect(id, std::move(c));
  }
  FakeAccess access;
};

TEST(Access, WrongPasswordRefused_MQTT_3_1_4_2) {
  AccessHarness h;
  auto reply = h.login(1, "user", Version::v5, "bad");
  ASSERT_EQ(reply.size(), 1u);
  EXPECT_EQ(as<mqtt::Connack>(reply[0]).reason, ReasonCode::bad_user_name_or_password);
  EXPECT_TRUE(h.closed(1));
}

TEST(Access, PendingVerdictHoldsLaterPacketsUntilAccepted) {
  AccessHarness h;
  EXPECT_TRUE(h.login(1, "slow").empty());
  // A client may send SUBSCRIBE before CONNACK; it waits for the verdict.
  EXPECT_TRUE(h.send(1, subscribe(1, "t")).empty());
  h.broker.complete_authentication(1, true, h.clock.now());
  auto reply = h.take(1);
  ASSERT_EQ(reply.size(), 2u);
  EXPECT_EQ(as<mqtt::Connack>(reply[0]).reason, ReasonCode::success);
  EXPECT_TRUE(std::holds_alternative<mqtt::Suback>(reply[1]));
}

TEST(Access, RefusedConnectNeverTakesOverLiveSession) {
  AccessHarness h;
  h.login(1, "user");
  mqtt::Connect intruder;
  intruder.version = Version::v5;
  intruder.client_id = "c1";
  intruder.username = "user";
  intruder.password = "bad";
  h.connect(2, intruder);
  EXPECT_TRUE(h.closed(2));
  EXPECT_FALSE(h.closed(1));
}

TEST(Access, DeniedPublishAcknowledgedWithNotAuthorized) {
  AccessHarness h;
  h.login(1, "admin");
  h.send(1, subscribe(1, "secret/#"));
  h.login(2, "user");
  auto ack = h.send(2, publish("secret/x", "leak", QoS::at_least_once, 4));
  ASSERT_EQ(ack.size(), 1u);
  EXPECT_EQ(as<mqtt::Ack>(ack[0]).reason, ReasonCode::not_authorized);
  EXPECT_TRUE(h.take(1).empty());
}

TEST(Access, DeniedSubscribeGetsNotAuthorized) {
  AccessHarness h;
  h.login(1, "user");
  auto reply = h.send(1, subscribe(1, "secret/#"));
  ASSERT_EQ(reply.size(), 1u);
  EXPECT_EQ(as<mqtt::Suback>(reply[0]).reasons, std::vector<ReasonCode>{ReasonCode::not_authorized});
}

TEST(Access, DeliveryCheckedPerMessageEvenForWideSubscription) {
  AccessHarness h;
  h.login(1, "user");
  h.send(1, subscribe(1, "#"));
  h.login(2, "admin");
  h.send(2, publish("secret/x", "hidden"));
  h.send(2, publish("public/x", "shown"));
  auto delivered = h.take(1);
  ASSERT_EQ(delivered.size(), 1u);
  EXPECT_EQ(as<mqtt::Publish>(delivered[0]).payload, "shown");
}

TEST(Access, RetainedMessagesCheckedOnSubscribe) {
  AccessHarness h;
  h.login(2, "admin");
  h.send(2, publish("secret/state", "s", QoS::at_most_once, 0, true));
  h.send(2, publish("open/state", "o", QoS::at_most_once, 0, true));
  h.login(1, "user");
  auto reply = h.send(1, subscribe(1, "#"));
  ASSERT_EQ(reply.size(), 2u);
  EXPECT_EQ(as<mqtt::Publish>(reply[1]).payload, "o");
}

}  // namespace
}  // namespace stellwerk::broker::testing

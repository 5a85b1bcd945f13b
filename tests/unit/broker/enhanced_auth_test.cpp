// MQTT 5 enhanced authentication and re-authentication at the packet level,
// with a toy two-step method in place of SCRAM: the client sends
// "user:<name>", the server answers "challenge", the client answers "good"
// (or anything else, which fails), the server ends with "final".
#include <gtest/gtest.h>

#include "broker_harness.h"

namespace stellwerk::broker::testing {
namespace {

using mqtt::QoS;
using mqtt::ReasonCode;
using mqtt::Version;

class ToyExchange final : public AuthExchange {
 public:
  Step step(std::string_view data) override {
    if (user_.empty()) {
      if (data.starts_with("once:")) return Step{Outcome::success, "welcome", std::string(data.substr(5))};
      if (!data.starts_with("user:") || data.size() == 5) return Step{Outcome::failure, "e=who", {}};
      user_ = data.substr(5);
      return Step{Outcome::proceed, "challenge", {}};
    }
    if (data != "good") return Step{Outcome::failure, "e=bad", {}};
    return Step{Outcome::success, "final", user_};
  }

 private:
  std::string user_;
};

// Offers "TOY"; "secret/" topics are for user "admin" only.
class ToyAccess final : public AccessControl {
 public:
  std::optional<bool> authenticate(uint64_t, const ClientIdentity&,
                                   const std::optional<std::string>&) override {
    ++password_checks;
    return true;
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
  std::unique_ptr<AuthExchange> start_exchange(std::string_view method) override {
    if (method != "TOY") return nullptr;
    ++exchanges;
    return std::make_unique<ToyExchange>();
  }
  int exchanges = 0;
  int password_checks = 0;

 private:
  static bool allowed(const ClientIdentity& identity, std::string_view topic) {
    return !topic.starts_with("secret/") || identity.username == "admin";
  }
};

mqtt::Connect connect_with(std::string method, std::optional<std::string> data,
                           std::optional<std::string> username = std::nullopt) {
  mqtt::Connect c;
  c.version = Version::v5;
  c.client_id = "c";
  c.properties.authentication_method = std::move(method);
  c.properties.authentication_data = std::move(data);
  c.username = std::move(username);
  return c;
}

mqtt::Auth auth(ReasonCode reason, std::optional<std::string> data, std::string method = "TOY") {
  mqtt::Auth a;
  a.reason = reason;
  a.properties.authentication_method = std::move(method);
  a.properties.authentication_data = std::move(data);
  return a;
}

class EnhancedAuthHarness : public BrokerHarness {
 public:
  explicit EnhancedAuthHarness(BrokerConfig config = {}) : BrokerHarness(std::move(config), &access) {}

  // Runs the whole toy exchange for `user` on connection `id`; returns the CONNACK.
  mqtt::Connack login(ConnectionId id, const std::string& user) {
    auto challenge = connect(id, connect_with("TOY", "user:" + user));
    EXPECT_EQ(challenge.size(), 1u);
    auto reply = send(id, auth(ReasonCode::continue_authentication, "good"));
    EXPECT_EQ(reply.size(), 1u);
    return reply.empty() ? mqtt::Connack{} : as<mqtt::Connack>(reply[0]);
  }
  ToyAccess access;
};

void expect_auth(const mqtt::Packet& packet, ReasonCode reason, const std::string& data) {
  const mqtt::Auth& a = as<mqtt::Auth>(packet);
  EXPECT_EQ(a.reason, reason);
  EXPECT_EQ(a.properties.authentication_method, "TOY");
  EXPECT_EQ(a.properties.authentication_data, data);
}

TEST(EnhancedAuth, UnsupportedMethodRefusedWith0x8C_MQTT_4_12_0_1) {
  EnhancedAuthHarness h;
  auto reply = h.connect(1, connect_with("KERBEROS", std::nullopt));
  ASSERT_EQ(reply.size(), 1u);
  EXPECT_EQ(as<mqtt::Connack>(reply[0]).reason, ReasonCode::bad_authentication_method);
  EXPECT_TRUE(h.closed(1));
  EXPECT_EQ(h.access.exchanges, 0);
}

TEST(EnhancedAuth, WithoutAccessControlNoMethodIsOffered_MQTT_4_12_0_1) {
  BrokerHarness h;
  auto reply = h.connect(1, connect_with("TOY", "user:alice"));
  ASSERT_EQ(reply.size(), 1u);
  EXPECT_EQ(as<mqtt::Connack>(reply[0]).reason, ReasonCode::bad_authentication_method);
  EXPECT_TRUE(h.closed(1));
}

TEST(EnhancedAuth, ChallengeThenConnackCarryMethodAndData_MQTT_4_12_0_2_MQTT_4_12_0_5) {
  EnhancedAuthHarness h;
  auto challenge = h.connect(1, connect_with("TOY", "user:admin"));
  ASSERT_EQ(challenge.size(), 1u);
  expect_auth(challenge[0], ReasonCode::continue_authentication, "challenge");
  auto reply = h.send(1, auth(ReasonCode::continue_authentication, "good"));
  ASSERT_EQ(reply.size(), 1u);
  const mqtt::Connack& connack = as<mqtt::Connack>(reply[0]);
  EXPECT_EQ(connack.reason, ReasonCode::success);
  EXPECT_EQ(connack.properties.authentication_method, "TOY");
  EXPECT_EQ(connack.properties.authentication_data, "final");
  EXPECT_FALSE(h.closed(1));
  EXPECT_EQ(h.access.password_checks, 0);
  // The ACL sees the user the exchange proved.
  auto suback = h.send(1, subscribe(1, "secret/#"));
  ASSERT_EQ(suback.size(), 1u);
  EXPECT_EQ(as<mqtt::Suback>(suback[0]).reasons, std::vector<ReasonCode>{ReasonCode::success});
}

TEST(EnhancedAuth, AclAppliesToTheAuthenticatedUser) {
  EnhancedAuthHarness h;
  EXPECT_EQ(h.login(1, "bob").reason, ReasonCode::success);
  auto suback = h.send(1, subscribe(1, "secret/#"));
  ASSERT_EQ(suback.size(), 1u);
  EXPECT_EQ(as<mqtt::Suback>(suback[0]).reasons, std::vector<ReasonCode>{ReasonCode::not_authorized});
}

TEST(EnhancedAuth, OneStepMethodConnectsAtOnce) {
  EnhancedAuthHarness h;
  auto reply = h.connect(1, connect_with("TOY", "once:alice"));
  ASSERT_EQ(reply.size(), 1u);
  EXPECT_EQ(as<mqtt::Connack>(reply[0]).reason, ReasonCode::success);
  EXPECT_EQ(as<mqtt::Connack>(reply[0]).properties.authentication_data, "welcome");
}

TEST(EnhancedAuth, FailedExchangeRefusedWithNotAuthorized_MQTT_4_12_0_4) {
  EnhancedAuthHarness h;
  h.connect(1, connect_with("TOY", "user:alice"));
  auto reply = h.send(1, auth(ReasonCode::continue_authentication, "wrong"));
  ASSERT_EQ(reply.size(), 1u);
  const mqtt::Connack& connack = as<mqtt::Connack>(reply[0]);
  EXPECT_EQ(connack.reason, ReasonCode::not_authorized);
  EXPECT_EQ(connack.properties.authentication_data, "e=bad");
  EXPECT_TRUE(h.closed(1));
  EXPECT_EQ(h.broker.session_count(), 0u);
}

TEST(EnhancedAuth, FailureOnTheFirstStepRefused) {
  EnhancedAuthHarness h;
  auto reply = h.connect(1, connect_with("TOY", std::nullopt));
  ASSERT_EQ(reply.size(), 1u);
  EXPECT_EQ(as<mqtt::Connack>(reply[0]).reason, ReasonCode::not_authorized);
  EXPECT_TRUE(h.closed(1));
}

TEST(EnhancedAuth, ConnectUserNameMustMatchTheProvenOne) {
  EnhancedAuthHarness h;
  h.connect(1, connect_with("TOY", "user:alice", "mallory"));
  auto reply = h.send(1, auth(ReasonCode::continue_authentication, "good"));
  ASSERT_EQ(reply.size(), 1u);
  EXPECT_EQ(as<mqtt::Connack>(reply[0]).reason, ReasonCode::not_authorized);
  EXPECT_TRUE(h.closed(1));

  h.connect(2, connect_with("TOY", "user:alice", "alice"));
  reply = h.send(2, auth(ReasonCode::continue_authentication, "good"));
  ASSERT_EQ(reply.size(), 1u);
  EXPECT_EQ(as<mqtt::Connack>(reply[0]).reason, ReasonCode::success);
}

TEST(EnhancedAuth, ProvenUserSatisfiesAllowAnonymousFalse) {
  BrokerConfig config;
  config.allow_anonymous = false;
  EnhancedAuthHarness h(config);
  EXPECT_EQ(h.login(1, "alice").reason, ReasonCode::success);
}

TEST(EnhancedAuth, OnlyAuthOrDisconnectBeforeConnack_MQTT_3_1_2_30) {
  EnhancedAuthHarness h;
  h.connect(1, connect_with("TOY", "user:alice"));
  EXPECT_TRUE(h.send(1, subscribe(1, "t")).empty());
  EXPECT_TRUE(h.closed(1));
  EXPECT_EQ(h.broker.session_count(), 0u);
}

TEST(EnhancedAuth, SecondConnectDuringExchangeIsAProtocolError_MQTT_3_1_0_2) {
  EnhancedAuthHarness h;
  h.connect(1, connect_with("TOY", "user:alice"));
  EXPECT_TRUE(h.send(1, connect_with("TOY", "user:alice")).empty());
  EXPECT_TRUE(h.closed(1));
}

TEST(EnhancedAuth, DisconnectDuringExchangeCloses) {
  EnhancedAuthHarness h;
  h.connect(1, connect_with("TOY", "user:alice"));
  EXPECT_TRUE(h.send(1, mqtt::Disconnect{}).empty());
  EXPECT_TRUE(h.closed(1));
  EXPECT_EQ(h.broker.connection_count(), 0u);
}

TEST(EnhancedAuth, AuthWithAnotherMethodIsAProtocolError_MQTT_4_12_0_5) {
  EnhancedAuthHarness h;
  h.connect(1, connect_with("TOY", "user:alice"));
  auto reply = h.send(1, auth(ReasonCode::continue_authentication, "good", "OTHER"));
  ASSERT_EQ(reply.size(), 1u);
  EXPECT_EQ(as<mqtt::Connack>(reply[0]).reason, ReasonCode::protocol_error);
  EXPECT_TRUE(h.closed(1));
}

TEST(EnhancedAuth, ClientMustContinueBeforeConnack_MQTT_4_12_0_3) {
  EnhancedAuthHarness h;
  h.connect(1, connect_with("TOY", "user:alice"));
  auto reply = h.send(1, auth(ReasonCode::re_authenticate, "good"));
  ASSERT_EQ(reply.size(), 1u);
  EXPECT_EQ(as<mqtt::Connack>(reply[0]).reason, ReasonCode::protocol_error);
  EXPECT_TRUE(h.closed(1));
}

TEST(EnhancedAuth, ConnectTimeoutCoversTheExchange) {
  BrokerConfig config;
  config.connect_timeout = std::chrono::seconds(5);
  EnhancedAuthHarness h(config);
  h.connect(1, connect_with("TOY", "user:alice"));
  h.advance(std::chrono::seconds(3));
  EXPECT_FALSE(h.closed(1));
  h.advance(std::chrono::seconds(3));
  EXPECT_TRUE(h.closed(1));
}

TEST(EnhancedAuth, NoMethodMeansNoAuthAndNoMethodInConnack_MQTT_4_12_0_6_MQTT_4_12_0_7) {
  EnhancedAuthHarness h;
  auto reply = h.connect(1, "plain", Version::v5);
  ASSERT_EQ(reply.size(), 1u);
  EXPECT_FALSE(as<mqtt::Connack>(reply[0]).properties.authentication_method);
  reply = h.send(1, auth(ReasonCode::re_authenticate, "user:alice"));
  ASSERT_EQ(reply.size(), 1u);
  EXPECT_EQ(as<mqtt::Disconnect>(reply[0]).reason, ReasonCode::protocol_error);
  EXPECT_TRUE(h.closed(1));
  EXPECT_EQ(h.access.exchanges, 0);
}

TEST(EnhancedAuth, ReauthenticationWhileOtherPacketsFlow_MQTT_4_12_1_1) {
  EnhancedAuthHarness h;
  ASSERT_EQ(h.login(1, "alice").reason, ReasonCode::success);
  auto challenge = h.send(1, auth(ReasonCode::re_authenticate, "user:alice"));
  ASSERT_EQ(challenge.size(), 1u);
  expect_auth(challenge[0], ReasonCode::continue_authentication, "challenge");
  // Other traffic continues under the previous authentication meanwhile.
  auto suback = h.send(1, subscribe(1, "t"));
  ASSERT_EQ(suback.size(), 1u);
  EXPECT_TRUE(std::holds_alternative<mqtt::Suback>(suback[0]));
  auto done = h.send(1, auth(ReasonCode::continue_authentication, "good"));
  ASSERT_EQ(done.size(), 1u);
  expect_auth(done[0], ReasonCode::success, "final");
  EXPECT_FALSE(h.closed(1));
  EXPECT_EQ(h.access.exchanges, 2);
  // And again: each re-authentication is a fresh exchange.
  ASSERT_EQ(h.send(1, auth(ReasonCode::re_authenticate, "user:alice")).size(), 1u);
  done = h.send(1, auth(ReasonCode::continue_authentication, "good"));
  ASSERT_EQ(done.size(), 1u);
  expect_auth(done[0], ReasonCode::success, "final");
}

TEST(EnhancedAuth, FailedReauthenticationDisconnects_MQTT_4_12_1_2) {
  EnhancedAuthHarness h;
  ASSERT_EQ(h.login(1, "alice").reason, ReasonCode::success);
  h.send(1, auth(ReasonCode::re_authenticate, "user:alice"));
  auto reply = h.send(1, auth(ReasonCode::continue_authentication, "wrong"));
  ASSERT_EQ(reply.size(), 1u);
  EXPECT_EQ(as<mqtt::Disconnect>(reply[0]).reason, ReasonCode::not_authorized);
  EXPECT_TRUE(h.closed(1));
}

TEST(EnhancedAuth, ReauthenticationAsAnotherUserFails) {
  EnhancedAuthHarness h;
  ASSERT_EQ(h.login(1, "alice").reason, ReasonCode::success);
  h.send(1, auth(ReasonCode::re_authenticate, "user:admin"));
  auto reply = h.send(1, auth(ReasonCode::continue_authentication, "good"));
  ASSERT_EQ(reply.size(), 1u);
  EXPECT_EQ(as<mqtt::Disconnect>(reply[0]).reason, ReasonCode::not_authorized);
  EXPECT_TRUE(h.closed(1));
}

TEST(EnhancedAuth, ReauthenticationWithAnotherMethodIsAProtocolError_MQTT_4_12_1_1) {
  EnhancedAuthHarness h;
  ASSERT_EQ(h.login(1, "alice").reason, ReasonCode::success);
  auto reply = h.send(1, auth(ReasonCode::re_authenticate, "user:alice", "OTHER"));
  ASSERT_EQ(reply.size(), 1u);
  EXPECT_EQ(as<mqtt::Disconnect>(reply[0]).reason, ReasonCode::protocol_error);
  EXPECT_TRUE(h.closed(1));
}

TEST(EnhancedAuth, ContinueWithoutReauthenticationIsAProtocolError) {
  EnhancedAuthHarness h;
  ASSERT_EQ(h.login(1, "alice").reason, ReasonCode::success);
  auto reply = h.send(1, auth(ReasonCode::continue_authentication, "good"));
  ASSERT_EQ(reply.size(), 1u);
  EXPECT_EQ(as<mqtt::Disconnect>(reply[0]).reason, ReasonCode::protocol_error);
  EXPECT_TRUE(h.closed(1));
}

TEST(EnhancedAuth, ReauthenticationStartedTwiceIsAProtocolError) {
  EnhancedAuthHarness h;
  ASSERT_EQ(h.login(1, "alice").reason, ReasonCode::success);
  h.send(1, auth(ReasonCode::re_authenticate, "user:alice"));
  auto reply = h.send(1, auth(ReasonCode::re_authenticate, "user:alice"));
  ASSERT_EQ(reply.size(), 1u);
  EXPECT_EQ(as<mqtt::Disconnect>(reply[0]).reason, ReasonCode::protocol_error);
  EXPECT_TRUE(h.closed(1));
}

TEST(EnhancedAuth, ClientSuccessAuthIsAProtocolError) {
  EnhancedAuthHarness h;
  ASSERT_EQ(h.login(1, "alice").reason, ReasonCode::success);
  auto reply = h.send(1, auth(ReasonCode::success, std::nullopt));
  ASSERT_EQ(reply.size(), 1u);
  EXPECT_EQ(as<mqtt::Disconnect>(reply[0]).reason, ReasonCode::protocol_error);
}

TEST(EnhancedAuth, FailedReauthenticationPublishesTheWill) {
  EnhancedAuthHarness h;
  h.connect(2, "watcher", Version::v5);
  h.send(2, subscribe(1, "will/#"));
  mqtt::Connect c = connect_with("TOY", "user:alice");
  c.will = mqtt::Will{};
  c.will->topic = "will/alice";
  c.will->payload = "gone";
  h.connect(1, c);
  ASSERT_EQ(as<mqtt::Connack>(h.send(1, auth(ReasonCode::continue_authentication, "good"))[0]).reason,
            ReasonCode::success);
  h.send(1, auth(ReasonCode::re_authenticate, "user:alice"));
  h.send(1, auth(ReasonCode::continue_authentication, "wrong"));
  auto delivered = h.take(2);
  ASSERT_EQ(delivered.size(), 1u);
  EXPECT_EQ(as<mqtt::Publish>(delivered[0]).payload, "gone");
}

}  // namespace
}  // namespace stellwerk::broker::testing

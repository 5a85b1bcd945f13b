// `-D command identifier value`: names, commands and value checks.
#include <gtest/gtest.h>

#include "client/property_option.h"

namespace stellwerk::client {
namespace {

ClientStatus add(PropertyOptions& options, std::vector<std::string> words) {
  return add_property_option(words, options);
}

TEST(PropertyOptionTest, StoresEachPropertyInItsPacket) {
  PropertyOptions options;
  ASSERT_TRUE(add(options, {"connect", "session-expiry-interval", "3600"}));
  ASSERT_TRUE(add(options, {"connect", "receive-maximum", "10"}));
  ASSERT_TRUE(add(options, {"connect", "topic-alias-maximum", "5"}));
  ASSERT_TRUE(add(options, {"connect", "maximum-packet-size", "1000"}));
  ASSERT_TRUE(add(options, {"connect", "request-problem-information", "0"}));
  ASSERT_TRUE(add(options, {"publish", "content-type", "text/plain"}));
  ASSERT_TRUE(add(options, {"publish", "message-expiry-interval", "60"}));
  ASSERT_TRUE(add(options, {"publish", "response-topic", "reply/here"}));
  ASSERT_TRUE(add(options, {"publish", "correlation-data", "id-17"}));
  ASSERT_TRUE(add(options, {"publish", "payload-format-indicator", "1"}));
  ASSERT_TRUE(add(options, {"subscribe", "subscription-identifier", "42"}));
  ASSERT_TRUE(add(options, {"will", "will-delay-interval", "30"}));
  ASSERT_TRUE(add(options, {"disconnect", "reason-string", "bye"}));

  EXPECT_EQ(options.connect.session_expiry_interval, 3600u);
  EXPECT_EQ(options.connect.receive_maximum, 10);
  EXPECT_EQ(options.connect.topic_alias_maximum, 5);
  EXPECT_EQ(options.connect.maximum_packet_size, 1000u);
  EXPECT_EQ(options.connect.request_problem_information, 0);
  EXPECT_EQ(options.publish.content_type, "text/plain");
  EXPECT_EQ(options.publish.message_expiry_interval, 60u);
  EXPECT_EQ(options.publish.response_topic, "reply/here");
  EXPECT_EQ(options.publish.correlation_data, "id-17");
  EXPECT_EQ(options.publish.payload_format_indicator, 1);
  EXPECT_EQ(options.subscribe.subscription_identifiers, std::vector<uint32_t>{42});
  EXPECT_EQ(options.will.will_delay_interval, 30u);
  EXPECT_EQ(options.disconnect.reason_string, "bye");
  EXPECT_EQ(options.publish.session_expiry_interval, std::nullopt);
}

TEST(PropertyOptionTest, UserPropertiesKeepTheirOrderAndDuplicates) {
  PropertyOptions options;
  ASSERT_TRUE(add(options, {"publish", "user-property", "k", "1"}));
  ASSERT_TRUE(add(options, {"publish", "user-property", "k", "2"}));
  ASSERT_TRUE(add(options, {"connect", "user-property", "c", "3"}));
  std::vector<mqtt::UserProperty> expected = {{"k", "1"}, {"k", "2"}};
  EXPECT_EQ(options.publish.user_properties, expected);
  EXPECT_EQ(options.connect.user_properties.size(), 1u);
}

TEST(PropertyOptionTest, RejectsUnknownCommandsAndNames) {
  PropertyOptions options;
  auto bad_command = add(options, {"auth", "reason-string", "x"});
  ASSERT_FALSE(bad_command);
  EXPECT_EQ(bad_command.error().message, "invalid command 'auth' in -D");
  auto bad_name = add(options, {"publish", "colour", "red"});
  ASSERT_FALSE(bad_name);
  EXPECT_EQ(bad_name.error().message, "invalid property name 'colour' in -D");
  auto server_only = add(options, {"connect", "maximum-qos", "1"});
  ASSERT_FALSE(server_only);
  EXPECT_EQ(server_only.error().message, "maximum-qos property not supported in -D");
}

TEST(PropertyOptionTest, RejectsPropertiesTheCommandCannotCarry) {
  PropertyOptions options;
  auto result = add(options, {"connect", "topic-alias", "4"});
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().message, "topic-alias property not allowed for connect in -D");
  // v5[MQTT-3.3.4-6]: a client's PUBLISH carries no subscription identifier.
  EXPECT_FALSE(add(options, {"publish", "subscription-identifier", "4"}));
  EXPECT_FALSE(add(options, {"subscribe", "content-type", "x"}));
}

TEST(PropertyOptionTest, ChecksValues) {
  PropertyOptions options;
  EXPECT_FALSE(add(options, {"publish", "payload-format-indicator", "2"}));
  EXPECT_FALSE(add(options, {"connect", "receive-maximum", "0"}));
  EXPECT_FALSE(add(options, {"connect", "receive-maximum", "65536"}));
  EXPECT_FALSE(add(options, {"publish", "message-expiry-interval", "4294967296"}));
  EXPECT_FALSE(add(options, {"publish", "message-expiry-interval", "12s"}));
  EXPECT_FALSE(add(options, {"publish", "message-expiry-interval", "-1"}));
  EXPECT_FALSE(add(options, {"subscribe", "subscription-identifier", "268435456"}));
  EXPECT_TRUE(add(options, {"subscribe", "subscription-identifier", "268435455"}));
  EXPECT_TRUE(add(options, {"publish", "message-expiry-interval", "4294967295"}));
}

TEST(PropertyOptionTest, ChecksStrings) {
  PropertyOptions options;
  EXPECT_FALSE(add(options, {"publish", "content-type", "bad \xff utf-8"}));
  EXPECT_FALSE(add(options, {"publish", "user-property", "k", std::string(70000, 'v')}));
  // v5[MQTT-3.3.2-14]: no wildcards in a response topic.
  EXPECT_FALSE(add(options, {"publish", "response-topic", "replies/#"}));
  // Correlation data is binary: any bytes will do.
  EXPECT_TRUE(add(options, {"publish", "correlation-data", "\xff\x00"}));
}

TEST(PropertyOptionTest, ChecksTheNumberOfWords) {
  PropertyOptions options;
  EXPECT_FALSE(add(options, {"publish", "content-type"}));
  EXPECT_FALSE(add(options, {"publish", "content-type", "a", "b"}));
  EXPECT_FALSE(add(options, {"publish", "user-property", "only-key"}));
}

}  // namespace
}  // namespace stellwerk::client

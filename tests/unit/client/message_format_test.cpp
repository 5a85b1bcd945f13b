// How `stellwerk sub` prints messages: default, -v, -N and -F formats, with
// mosquitto_sub's behaviour as the reference.
#include <gtest/gtest.h>

#include <cstdlib>

#include "client/message_format.h"

namespace stellwerk::client {
namespace {

using std::chrono::system_clock;

// 2021-03-04 05:06:07.000000089 UTC
const system_clock::time_point kReceived =
    system_clock::time_point(std::chrono::seconds(1614834367)) + std::chrono::nanoseconds(89);

class MessageFormatTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // Time sequences print local time; pin it.
    setenv("TZ", "UTC", 1);
    tzset();
    message.topic = "a/b";
    message.payload = "hi";
    message.qos = mqtt::QoS::at_least_once;
    message.retain = true;
    message.packet_id = 12;
  }

  std::string render(OutputOptions options) { return render_message(message, options, kReceived); }

  mqtt::Publish message;
};

TEST_F(MessageFormatTest, DefaultPrintsThePayloadLine) {
  EXPECT_EQ(render({}), "hi\n");
  EXPECT_EQ(render({"", false, false}), "hi");
}

TEST_F(MessageFormatTest, EmptyPayloadPrintsNothingByDefault) {
  message.payload.clear();
  EXPECT_EQ(render({}), "");
}

TEST_F(MessageFormatTest, VerbosePrintsTopicFirst) {
  EXPECT_EQ(render({"", true, true}), "a/b hi\n");
  message.payload.clear();
  EXPECT_EQ(render({"", true, true}), "a/b (null)\n");
  EXPECT_EQ(render({"", true, false}), "");
}

TEST_F(MessageFormatTest, FormatFields) {
  EXPECT_EQ(render({"%t|%p|%q|%r|%l|%m|%%", false, true}), "a/b|hi|1|1|2|12|%\n");
  EXPECT_EQ(render({"%x %X", false, false}), "6869 6869");
  message.payload = "\xAB";
  EXPECT_EQ(render({"%x %X", false, false}), "ab AB");
}

TEST_F(MessageFormatTest, FormatOverridesVerbose) {
  EXPECT_EQ(render({"[%p]", true, true}), "[hi]\n");
}

TEST_F(MessageFormatTest, PropertyFields) {
  EXPECT_EQ(render({"%C|%E|%F|%P|%R|%S|%A|%D", false, false}), "|||||||");
  message.properties.content_type = "text/plain";
  message.properties.message_expiry_interval = 30;
  message.properties.payload_format_indicator = 1;
  message.properties.user_properties = {{"a", "b"}, {"c", "d"}};
  message.properties.response_topic = "reply";
  message.properties.subscription_identifiers = {3, 9};
  message.properties.topic_alias = 4;
  message.properties.correlation_data = "cid";
  EXPECT_EQ(render({"%C|%E|%F|%P|%R|%S|%A|%D", false, false}),
            "text/plain|30|1|a:b c:d|reply|3 9|4|cid");
}

TEST_F(MessageFormatTest, TimeSequences) {
  EXPECT_EQ(render({"%I", false, false}), "2021-03-04T05:06:07+0000");
  EXPECT_EQ(render({"%U", false, false}), "1614834367.000000089");
  EXPECT_EQ(render({"@Y-@m @N @@", false, false}), "2021-03 000000089 @");
}

TEST_F(MessageFormatTest, Escapes) {
  EXPECT_EQ(render({"%t\\t%p\\n\\\\\\e", false, false}), "a/b\thi\n\\\x1b");
  EXPECT_EQ(render({"%t\\0%p", false, false}), std::string("a/b\0hi", 6));
}

TEST_F(MessageFormatTest, CheckFormatRejectsUnknownSequences) {
  EXPECT_TRUE(check_format("%t %p %q %r %l %m %x %X %I %U %% \\n @Y"));
  auto field = check_format("%t %i");
  ASSERT_FALSE(field);
  EXPECT_EQ(field.error().message, "invalid format specifier 'i'");
  auto escape = check_format("\\q");
  ASSERT_FALSE(escape);
  EXPECT_EQ(escape.error().message, "invalid escape specifier 'q'");
  EXPECT_FALSE(check_format("trailing %"));
}

}  // namespace
}  // namespace stellwerk::client

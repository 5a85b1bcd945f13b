// The shared options of pub / sub: command-line parsing with CLI11, the
// checks done before connecting, and mosquitto's exit codes.
#include <gtest/gtest.h>

#include <unistd.h>

#include <CLI/CLI.hpp>

#include "client/tool_options.h"

namespace stellwerk::client {
namespace {

// Parses `words` (after the subcommand name) into `options`; returns the
// exit code parse_command_line asked for, or nullopt.
std::optional<int> parse(ToolOptions& options, std::vector<std::string> words) {
  CLI::App app{"test", "test"};
  add_common_options(app, options);
  options.quiet = true;  // usage errors would go to stderr
  std::vector<char*> argv;
  std::string name = "pub";
  argv.push_back(name.data());
  for (auto& word : words) argv.push_back(word.data());
  return parse_command_line(app, static_cast<int>(argv.size()), argv.data(), options, "pub");
}

TEST(ToolOptionsTest, ParsesMosquittoStyleFlags) {
  ToolOptions options;
  ASSERT_EQ(parse(options, {"-h", "broker.example", "-p", "1884", "-i", "me", "-u", "user", "-P",
                            "pw", "-k", "30", "-c", "-V", "mqttv5", "-q", "2", "-d"}),
            std::nullopt);
  EXPECT_EQ(options.host, "broker.example");
  EXPECT_EQ(options.port, 1884);
  EXPECT_EQ(options.id, "me");
  EXPECT_EQ(options.username, "user");
  EXPECT_EQ(options.password, "pw");
  EXPECT_EQ(options.keepalive, 30);
  EXPECT_TRUE(options.no_clean_session);
  EXPECT_EQ(options.version, "mqttv5");
  EXPECT_EQ(options.qos, 2);
  EXPECT_TRUE(options.debug);
}

TEST(ToolOptionsTest, GroupsEachPropertyOption) {
  ToolOptions options;
  ASSERT_EQ(parse(options, {"-D", "publish", "user-property", "k", "v", "-D", "connect",
                            "session-expiry-interval", "10", "-q", "1"}),
            std::nullopt);
  ASSERT_EQ(options.properties.size(), 2u);
  EXPECT_EQ(options.properties[0],
            (std::vector<std::string>{"publish", "user-property", "k", "v"}));
  EXPECT_EQ(options.properties[1],
            (std::vector<std::string>{"connect", "session-expiry-interval", "10"}));
}

TEST(ToolOptionsTest, UnknownFlagIsAUsageError) {
  ToolOptions options;
  EXPECT_EQ(parse(options, {"--no-such-flag"}), 1);
}

TEST(ToolOptionsTest, DashHIsTheHostAndHelpIsLong) {
  ToolOptions options;
  testing::internal::CaptureStdout();
  EXPECT_EQ(parse(options, {"--help"}), 0);
  EXPECT_NE(testing::internal::GetCapturedStdout().find("-h,--host"), std::string::npos);
}

TEST(ToolOptionsTest, ParsesVersions) {
  EXPECT_EQ(parse_version("31").value(), mqtt::Version::v31);
  EXPECT_EQ(parse_version("mqttv31").value(), mqtt::Version::v31);
  EXPECT_EQ(parse_version("311").value(), mqtt::Version::v311);
  EXPECT_EQ(parse_version("mqttv311").value(), mqtt::Version::v311);
  EXPECT_EQ(parse_version("5").value(), mqtt::Version::v5);
  EXPECT_EQ(parse_version("mqttv5").value(), mqtt::Version::v5);
  EXPECT_FALSE(parse_version("6"));
}

TEST(ToolOptionsTest, ParsesSessionExpiry) {
  EXPECT_EQ(parse_session_expiry("0").value(), 0u);
  EXPECT_EQ(parse_session_expiry("3600").value(), 3600u);
  EXPECT_EQ(parse_session_expiry("-1").value(), UINT32_MAX);
  EXPECT_EQ(parse_session_expiry("∞").value(), UINT32_MAX);
  EXPECT_EQ(parse_session_expiry("4294967295").value(), UINT32_MAX);
  EXPECT_FALSE(parse_session_expiry("4294967296"));
  EXPECT_FALSE(parse_session_expiry("soon"));
}

TEST(ToolSetupTest, BuildsTheConnect) {
  ToolOptions options;
  options.id = "me";
  options.version = "5";
  options.keepalive = 15;
  options.username = "u";
  options.password = "p";
  options.will_topic = "last/will";
  options.will_payload = "bye";
  options.will_qos = 1;
  options.will_retain = true;
  options.properties = {{"will", "content-type", "text/plain"}, {"publish", "content-type", "x"}};
  auto setup = make_tool_setup(options, "pub");
  ASSERT_TRUE(setup) << setup.error().message;
  const mqtt::Connect& connect = setup->connect.connect;
  EXPECT_EQ(connect.version, mqtt::Version::v5);
  EXPECT_EQ(connect.client_id, "me");
  EXPECT_EQ(connect.keep_alive, 15);
  EXPECT_TRUE(connect.clean_start);
  EXPECT_EQ(connect.username, "u");
  EXPECT_EQ(connect.password, "p");
  ASSERT_TRUE(connect.will.has_value());
  EXPECT_EQ(connect.will->topic, "last/will");
  EXPECT_EQ(connect.will->payload, "bye");
  EXPECT_EQ(connect.will->qos, mqtt::QoS::at_least_once);
  EXPECT_TRUE(connect.will->retain);
  EXPECT_EQ(connect.will->properties.content_type, "text/plain");
  EXPECT_EQ(setup->properties.publish.content_type, "x");
  EXPECT_FALSE(connect.properties.session_expiry_interval.has_value());
}

TEST(ToolSetupTest, ClientIdDefaults) {
  ToolOptions options;
  EXPECT_EQ(make_tool_setup(options, "pub")->connect.connect.client_id, "");  // server assigns
  options.version = "31";  // 3.1 cannot leave it to the server
  const std::string v31_id = make_tool_setup(options, "sub")->connect.connect.client_id;
  EXPECT_EQ(v31_id.rfind("stellwerk_sub_", 0), 0u);
  EXPECT_LE(v31_id.size(), 23u);
  options.id_prefix = "pre-";
  EXPECT_EQ(make_tool_setup(options, "sub")->connect.connect.client_id,
            "pre-" + std::to_string(::getpid()));
}

TEST(ToolSetupTest, NoCleanSessionNeedsAnIdAndNeverExpiresInV5) {
  ToolOptions options;
  options.no_clean_session = true;
  EXPECT_FALSE(make_tool_setup(options, "sub"));
  options.id = "keeper";
  options.version = "5";
  auto setup = make_tool_setup(options, "sub");
  ASSERT_TRUE(setup);
  EXPECT_FALSE(setup->connect.connect.clean_start);
  EXPECT_EQ(setup->connect.connect.properties.session_expiry_interval, UINT32_MAX);
  options.session_expiry = "60";
  EXPECT_EQ(make_tool_setup(options, "sub")->connect.connect.properties.session_expiry_interval,
            60u);
}

TEST(ToolSetupTest, RejectsBadCombinations) {
  ToolOptions options;
  options.qos = 3;
  EXPECT_FALSE(make_tool_setup(options, "pub"));
  options = {};
  options.port = 0;
  EXPECT_FALSE(make_tool_setup(options, "pub"));
  options = {};
  options.id = "a";
  options.id_prefix = "b";
  EXPECT_FALSE(make_tool_setup(options, "pub"));
  options = {};
  options.will_payload = "no topic";
  EXPECT_FALSE(make_tool_setup(options, "pub"));
  options = {};
  options.will_topic = "t";
  options.will_qos = 5;
  EXPECT_FALSE(make_tool_setup(options, "pub"));
  options = {};
  options.properties = {{"publish", "bogus", "1"}};
  EXPECT_FALSE(make_tool_setup(options, "pub"));
}

TEST(ExitCodeTest, FollowsMosquitto) {
  const ClientError refused{ErrorKind::refused, "", mqtt::ReasonCode::not_authorized};
  EXPECT_EQ(exit_code_for(refused, mqtt::Version::v5), 0x87);
  EXPECT_EQ(exit_code_for(refused, mqtt::Version::v311), 5);  // 3.1.1 return code
  const ClientError bad_login{ErrorKind::refused, "", mqtt::ReasonCode::bad_user_name_or_password};
  EXPECT_EQ(exit_code_for(bad_login, mqtt::Version::v31), 4);
  EXPECT_EQ(exit_code_for({ErrorKind::network, "", {}}, mqtt::Version::v311), 1);
  EXPECT_EQ(exit_code_for({ErrorKind::usage, "", {}}, mqtt::Version::v311), 1);
  EXPECT_EQ(exit_code_for({ErrorKind::protocol, "", {}}, mqtt::Version::v311), 2);
  EXPECT_EQ(exit_code_for({ErrorKind::closed, "", {}}, mqtt::Version::v311), 7);
  EXPECT_EQ(exit_code_for({ErrorKind::timeout, "", {}}, mqtt::Version::v311), 27);
}

}  // namespace
}  // namespace stellwerk::client

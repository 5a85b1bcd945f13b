// Listener sections, the implicit default listener, local-only mode, the -p
// override and the allow_anonymous default: the mosquitto 2 rules.
#include <gtest/gtest.h>

#include "test_support.h"

namespace stellwerk::config {
namespace {

using testing::parse_error;
using testing::parse_ok;

TEST(ConfigListeners, ListenerKeysApplyToTheListenerAboveThem) {
  const Config config = parse_ok(
      "listener 1883\n"
      "protocol mqtt\n"
      "listener 9001 0.0.0.0\n"
      "protocol websockets\n"
      "max_connections 10\n"
      "allow_anonymous true\n");  // a global key inside a section stays global
  ASSERT_EQ(config.listeners.size(), 2u);
  EXPECT_EQ(config.listeners[0].port, 1883);
  EXPECT_EQ(config.listeners[0].protocol, "mqtt");
  EXPECT_EQ(config.listeners[0].max_connections, -1);
  EXPECT_EQ(config.listeners[1].port, 9001);
  EXPECT_EQ(config.listeners[1].bind_address, "0.0.0.0");
  EXPECT_EQ(config.listeners[1].protocol, "websockets");
  EXPECT_EQ(config.listeners[1].max_connections, 10);
  EXPECT_EQ(config.allow_anonymous, true);
}

TEST(ConfigListeners, GlobalMaxConnectionsIsTheDefaultForListenersThatSetNone) {
  const Config config = parse_ok(
      "max_connections 100\n"
      "listener 1883\n"
      "listener 1884\n"
      "max_connections -1\n"
      "listener 1885\n"
      "max_connections 5\n");
  ASSERT_EQ(config.listeners.size(), 3u);
  EXPECT_EQ(config.max_connections, 100);
  EXPECT_EQ(config.listeners[0].max_connections, 100);
  EXPECT_EQ(config.listeners[1].max_connections, -1) << "explicit -1 means unlimited";
  EXPECT_EQ(config.listeners[2].max_connections, 5);
}

TEST(ConfigListeners, NoListenerMeansLocalOnly) {
  const Config config = parse_ok("sys_interval 5\n");
  EXPECT_FALSE(config.listeners_configured());
  const auto effective = config.effective_listeners();
  ASSERT_EQ(effective.size(), 2u);
  EXPECT_EQ(effective[0].port, 1883);
  EXPECT_EQ(effective[0].bind_address, "127.0.0.1");
  EXPECT_EQ(effective[0].socket_domain, "ipv4");
  EXPECT_EQ(effective[1].port, 1883);
  EXPECT_EQ(effective[1].bind_address, "::1");
  EXPECT_EQ(effective[1].socket_domain, "ipv6");
}

TEST(ConfigListeners, LocalOnlyListenersCarryTheGlobalMaxConnections) {
  for (const auto& listener : parse_ok("max_connections 7\n").effective_listeners()) {
    EXPECT_EQ(listener.max_connections, 7);
  }
}

TEST(ConfigListeners, PortAloneMakesADefaultListenerOnAllInterfaces) {
  const Config config = parse_ok("port 1884\n");
  ASSERT_EQ(config.listeners.size(), 1u);
  EXPECT_EQ(config.listeners[0].port, 1884);
  EXPECT_EQ(config.listeners[0].bind_address, "");
  EXPECT_EQ(config.effective_listeners(), config.listeners);
}

TEST(ConfigListeners, BindAddressAloneMakesADefaultListenerOn1883) {
  const Config config = parse_ok("bind_address 127.0.0.1\n");
  ASSERT_EQ(config.listeners.size(), 1u);
  EXPECT_EQ(config.listeners[0].port, 1883);
  EXPECT_EQ(config.listeners[0].bind_address, "127.0.0.1");
}

TEST(ConfigListeners, ListenerKeysBeforeAnyListenerConfigureTheDefaultListener) {
  const Config config = parse_ok(
      "port 8883\n"
      "certfile /tls/cert.pem\n"
      "keyfile /tls/key.pem\n"
      "listener 1883\n");
  ASSERT_EQ(config.listeners.size(), 2u);
  EXPECT_EQ(config.listeners[0].port, 1883);
  EXPECT_EQ(config.listeners[0].certfile, "");
  EXPECT_EQ(config.listeners[1].port, 8883) << "mosquitto adds the default listener last";
  EXPECT_EQ(config.listeners[1].certfile, "/tls/cert.pem");
  EXPECT_EQ(config.listeners[1].keyfile, "/tls/key.pem");
}

TEST(ConfigListeners, ListenerKeyBeforeListenerWithoutPortStillMakesTheDefaultListener) {
  // mosquitto 2 does the same: `protocol` here configures the default
  // listener on 1883, not the listener on 9001 (a warning is logged).
  const Config config = parse_ok("protocol websockets\nlistener 9001\n");
  ASSERT_EQ(config.listeners.size(), 2u);
  EXPECT_EQ(config.listeners[0].port, 9001);
  EXPECT_EQ(config.listeners[0].protocol, "mqtt");
  EXPECT_EQ(config.listeners[1].port, 1883);
  EXPECT_EQ(config.listeners[1].protocol, "websockets");
}

TEST(ConfigListeners, SameListenerTwiceIsAnError) {
  const ConfigError error = parse_error("listener 1883\nlistener 8883\nlistener 1883\n");
  EXPECT_EQ(error.to_string(),
            "test.conf:3: listener: duplicate listener: port 1883 on all interfaces is already "
            "defined at test.conf:1");
}

TEST(ConfigListeners, SamePortOnDifferentAddressesIsAllowed) {
  const Config config = parse_ok("listener 1883 127.0.0.1\nlistener 1883 ::1\n");
  EXPECT_EQ(config.listeners.size(), 2u);
}

TEST(ConfigListeners, DefaultListenerDuplicatingAListenerIsAnError) {
  const ConfigError error = parse_error("port 1883\nsys_interval 1\nlistener 1883\n");
  EXPECT_EQ(error.file, "test.conf");
  EXPECT_EQ(error.line, 1);
  EXPECT_EQ(error.key, "port");
  EXPECT_NE(error.message.find("duplicates the listener at test.conf:3"), std::string::npos)
      << error.message;
}

TEST(ConfigListeners, ListenerKeyWithNoListenerAnywhereIsAnError) {
  // mosquitto would stay local-only and silently ignore the TLS settings.
  const ConfigError error = parse_error("sys_interval 1\ncertfile /tls/cert.pem\n");
  EXPECT_EQ(error.file, "test.conf");
  EXPECT_EQ(error.line, 2);
  EXPECT_EQ(error.key, "certfile");
  EXPECT_NE(error.message.find("no listener is configured"), std::string::npos) << error.message;
}

TEST(ConfigListeners, SectionsEndAtTheEndOfTheirFile) {
  MemoryFiles files;
  files.add_file("/conf.d/a.conf", "listener 9001\nprotocol websockets\n");
  const Config config = parse_ok("listener 1883\ninclude_dir /conf.d\nsocket_domain ipv4\n", files);
  ASSERT_EQ(config.listeners.size(), 2u);
  EXPECT_EQ(config.listeners[0].port, 1883);
  EXPECT_EQ(config.listeners[0].socket_domain, "ipv4") << "back in the main file's section";
  EXPECT_EQ(config.listeners[1].protocol, "websockets");
}

TEST(ConfigListeners, IncludedFileStartsOnTheDefaultListener) {
  MemoryFiles files;
  files.add_file("/conf.d/tls.conf", "certfile /tls/cert.pem\n");
  const Config config = parse_ok("listener 1884\ninclude_dir /conf.d\n", files);
  ASSERT_EQ(config.listeners.size(), 2u);
  EXPECT_EQ(config.listeners[0].certfile, "");
  EXPECT_EQ(config.listeners[1].port, 1883);
  EXPECT_EQ(config.listeners[1].certfile, "/tls/cert.pem");
}

TEST(ConfigAnonymous, UnsetIsTrueInLocalOnlyMode) {
  EXPECT_TRUE(parse_ok("").effective_allow_anonymous());
}

TEST(ConfigAnonymous, UnsetIsFalseOnceAListenerIsConfigured) {
  EXPECT_FALSE(parse_ok("listener 1883").effective_allow_anonymous());
  EXPECT_FALSE(parse_ok("port 1883").effective_allow_anonymous());
  EXPECT_FALSE(parse_ok("bind_address 127.0.0.1").effective_allow_anonymous());
}

TEST(ConfigAnonymous, ExplicitValueWins) {
  EXPECT_TRUE(parse_ok("listener 1883\nallow_anonymous true").effective_allow_anonymous());
  EXPECT_FALSE(parse_ok("allow_anonymous false").effective_allow_anonymous());
}

TEST(ConfigPortOverride, LocalOnlyModeMovesToTheGivenPorts) {
  Config config = parse_ok("");
  apply_port_override(config, 1884);
  apply_port_override(config, 1885);
  apply_port_override(config, 1884);
  EXPECT_FALSE(config.listeners_configured());
  EXPECT_TRUE(config.effective_allow_anonymous()) << "still local-only";
  const auto effective = config.effective_listeners();
  ASSERT_EQ(effective.size(), 4u);
  EXPECT_EQ(effective[0].port, 1884);
  EXPECT_EQ(effective[0].bind_address, "127.0.0.1");
  EXPECT_EQ(effective[1].port, 1884);
  EXPECT_EQ(effective[1].bind_address, "::1");
  EXPECT_EQ(effective[2].port, 1885);
  EXPECT_EQ(effective[3].port, 1885);
}

TEST(ConfigPortOverride, IgnoredWhenTheConfigurationDefinesListeners) {
  Config config = parse_ok("listener 8883\n");
  const Config before = config;
  apply_port_override(config, 1884);
  EXPECT_EQ(config, before);
  ASSERT_EQ(config.effective_listeners().size(), 1u);
  EXPECT_EQ(config.effective_listeners()[0].port, 8883);
}

}  // namespace
}  // namespace stellwerk::config

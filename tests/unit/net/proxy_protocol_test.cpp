// The PROXY protocol layer on its own: v1 and v2 headers, split anywhere,
// with the client's first bytes behind them, and the headers it refuses.
#include "net/proxy_protocol.h"

#include <gtest/gtest.h>

namespace stellwerk::net {
namespace {

std::span<const uint8_t> bytes_of(std::string_view s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

const std::string kV2Signature("\r\n\r\n\0\r\nQUIT\n", 12);

std::string v2_header(uint8_t command, uint8_t family, std::string_view body) {
  std::string h = kV2Signature;
  h.push_back(static_cast<char>(0x20 | command));
  h.push_back(static_cast<char>(family << 4 | 1));  // STREAM
  h.push_back(static_cast<char>(body.size() >> 8));
  h.push_back(static_cast<char>(body.size() & 0xFF));
  return h + std::string(body);
}

std::string v2_ipv4_body() {
  // 192.0.2.7:51000 -> 10.0.0.1:1883, then a TLV that is skipped.
  return std::string("\xc0\x00\x02\x07\x0a\x00\x00\x01\xc7\x38\x07\x5b", 12) +
         std::string("\x04\x00\x01x", 4);
}

struct Outcome {
  bool ok = false;
  bool established = false;
  std::string up;
  PeerInfo info;
  std::string why;
};

// Feeds `input` in pieces of `piece` bytes.
Outcome run(ProxyProtocol accepted, std::string_view input, size_t piece = 1000) {
  ProxyProtocolTransport proxy(accepted);
  Outcome outcome{true};
  for (size_t at = 0; at < input.size() && outcome.ok; at += piece) {
    std::string down;
    TransportStatus status = proxy.on_input(bytes_of(input.substr(at, piece)), outcome.up, down);
    EXPECT_TRUE(down.empty());
    outcome.ok = status.ok();
    if (!status.ok()) outcome.why = status.error().why;
  }
  outcome.established = proxy.established();
  outcome.info.address.text = "socket";
  proxy.describe(outcome.info);
  return outcome;
}

TEST(ProxyProtocolTest, V1Tcp4HeaderNamesThePeerAndPassesTheRestOn) {
  for (size_t piece : {1u, 7u, 1000u}) {
    Outcome o = run(ProxyProtocol::v1, "PROXY TCP4 192.0.2.7 10.0.0.1 51000 1883\r\n\x10\x0c", piece);
    ASSERT_TRUE(o.ok) << o.why;
    EXPECT_TRUE(o.established);
    EXPECT_EQ(o.info.address.text, "192.0.2.7:51000");
    EXPECT_TRUE(o.info.via_proxy);
    EXPECT_EQ(o.up, "\x10\x0c");
  }
}

TEST(ProxyProtocolTest, V1Tcp6AndUnknown) {
  Outcome six = run(ProxyProtocol::any, "PROXY TCP6 2001:db8::1 ::1 4000 1883\r\n");
  ASSERT_TRUE(six.ok) << six.why;
  EXPECT_EQ(six.info.address.text, "[2001:db8::1]:4000");
  Outcome unknown = run(ProxyProtocol::v1, "PROXY UNKNOWN ffff::1 ::1 1 2\r\nabc");
  ASSERT_TRUE(unknown.ok);
  EXPECT_EQ(unknown.info.address.text, "socket");
  EXPECT_FALSE(unknown.info.via_proxy);
  EXPECT_EQ(unknown.up, "abc");
}

TEST(ProxyProtocolTest, V1RefusesMalformedHeaders) {
  for (std::string_view bad :
       {"PROXY TCP4 192.0.2.7 10.0.0.1 51000\r\n", "PROXY TCP4 300.0.2.7 10.0.0.1 1 2\r\n",
        "PROXY TCP4 192.0.2.7 10.0.0.1 70000 1883\r\n", "PROXY TCP6 192.0.2.7 ::1 1 2\r\n",
        "PROXY UDP4 1.2.3.4 1.2.3.4 1 2\r\n", "\x10\x0c\x00\x04MQTT"}) {
    Outcome o = run(ProxyProtocol::v1, bad);
    EXPECT_FALSE(o.ok) << bad;
    EXPECT_TRUE(o.up.empty());
  }
  Outcome too_long = run(ProxyProtocol::v1, "PROXY TCP4 " + std::string(200, '1'), 10);
  EXPECT_FALSE(too_long.ok);
}

TEST(ProxyProtocolTest, V2Ipv4SkipsTlvsAndPassesTheRestOn) {
  std::string input = v2_header(1, 1, v2_ipv4_body()) + "\x10\x0c";
  for (size_t piece : {1u, 5u, 1000u}) {
    Outcome o = run(ProxyProtocol::v2, input, piece);
    ASSERT_TRUE(o.ok) << o.why;
    EXPECT_EQ(o.info.address.text, "192.0.2.7:51000");
    EXPECT_EQ(o.up, "\x10\x0c");
  }
}

TEST(ProxyProtocolTest, V2Ipv6) {
  std::string body(36, '\0');
  body[0] = '\x20';
  body[1] = '\x01';
  body[15] = '\x09';  // 2001::9
  body[32] = '\x01';  // port 256
  Outcome o = run(ProxyProtocol::any, v2_header(1, 2, body));
  ASSERT_TRUE(o.ok) << o.why;
  EXPECT_EQ(o.info.address.text, "[2001::9]:256");
}

TEST(ProxyProtocolTest, V2LocalAndUnspecKeepTheSocketAddress) {
  for (const std::string& header : {v2_header(0, 0, ""), v2_header(1, 0, "")}) {
    Outcome o = run(ProxyProtocol::v2, header + "x");
    ASSERT_TRUE(o.ok) << o.why;
    EXPECT_EQ(o.info.address.text, "socket");
    EXPECT_EQ(o.up, "x");
  }
}

TEST(ProxyProtocolTest, V2RefusesBadVersionCommandAndShortBlocks) {
  std::string bad_version = v2_header(1, 1, v2_ipv4_body());
  bad_version[12] = '\x31';
  std::string bad_command = v2_header(2, 1, v2_ipv4_body());
  std::string short_block = v2_header(1, 1, std::string(8, '\0'));
  for (const std::string& header : {bad_version, bad_command, short_block})
    EXPECT_FALSE(run(ProxyProtocol::v2, header).ok);
}

TEST(ProxyProtocolTest, ListenerVersionIsEnforced) {
  EXPECT_FALSE(run(ProxyProtocol::v1, v2_header(1, 1, v2_ipv4_body())).ok);
  EXPECT_FALSE(run(ProxyProtocol::v2, "PROXY TCP4 192.0.2.7 10.0.0.1 1 2\r\n").ok);
  EXPECT_TRUE(run(ProxyProtocol::any, v2_header(1, 1, v2_ipv4_body())).ok);
}

TEST(ProxyProtocolTest, IncompleteHeaderWaits) {
  Outcome o = run(ProxyProtocol::any, "PROXY TCP4 192.0.2.7");
  EXPECT_TRUE(o.ok);
  EXPECT_FALSE(o.established);
  Outcome v2 = run(ProxyProtocol::any, v2_header(1, 1, v2_ipv4_body()).substr(0, 20));
  EXPECT_TRUE(v2.ok);
  EXPECT_FALSE(v2.established);
}

}  // namespace
}  // namespace stellwerk::net

// The WebSocket server transport on its own, fed bytes directly: the upgrade
// handshake, every kind of frame, fragmentation, control frames, refusals,
// and a byte stream split across frames at arbitrary points.
#include "net/websocket_transport.h"

#include <gtest/gtest.h>

#include "net/websocket_handshake.h"
#include "transport_test_support.h"

namespace stellwerk::net::testing {
namespace {

std::span<const uint8_t> bytes_of(std::string_view s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

// Parses the server frames in `wire` (unmasked, as a server must send them).
std::vector<ServerFrame> frames_in(std::string_view wire) {
  size_t at = 0;
  ByteStream stream{[](std::string_view) { return true; },
                    [&](size_t n) {
                      std::string part(wire.substr(at, n));
                      at += part.size();
                      return part;
                    }};
  std::vector<ServerFrame> frames;
  while (at < wire.size()) frames.push_back(read_server_frame(stream));
  return frames;
}

class WebSocketTransportTest : public ::testing::Test {
 protected:
  // Feeds `input` and collects what came out.
  TransportStatus feed(std::string_view input) {
    up_.clear();
    down_.clear();
    return ws_.on_input(bytes_of(input), up_, down_);
  }
  void upgrade(std::string_view protocols = "mqtt") {
    ASSERT_TRUE(feed(upgrade_request(protocols)).ok());
    ASSERT_EQ(down_.rfind("HTTP/1.1 101 Switching Protocols\r\n", 0), 0u) << down_;
    ASSERT_TRUE(ws_.established());
  }
  // Expects the input to end the connection with a close frame carrying `code`.
  void expect_refused(std::string_view input, uint16_t code) {
    TransportStatus status = feed(input);
    ASSERT_FALSE(status.ok());
    EXPECT_TRUE(status.error().failure);
    auto frames = frames_in(down_);
    ASSERT_EQ(frames.size(), 1u) << status.error().why;
    EXPECT_EQ(frames[0].opcode(), websocket::close);
    EXPECT_EQ(close_code(frames[0]), code) << status.error().why;
    // After the close frame nothing more goes out or comes in.
    std::string after;
    ws_.wrap("late", after);
    EXPECT_TRUE(after.empty());
    EXPECT_TRUE(feed(client_frame(websocket::binary, "x")).ok());
    EXPECT_TRUE(up_.empty());
  }

  WebSocketSettings settings_;
  WebSocketServerTransport ws_{settings_};
  std::string up_, down_;
};

TEST(WebSocketHandshakeTest, AcceptKeyMatchesTheExampleOfRfc6455) {
  EXPECT_EQ(websocket_accept_key("dGhlIHNhbXBsZSBub25jZQ=="), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
}

TEST_F(WebSocketTransportTest, UpgradeAnswersWithAcceptKeyAndTheMqttSubprotocol) {
  upgrade();
  EXPECT_NE(down_.find("Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"), std::string::npos) << down_;
  EXPECT_NE(down_.find("Sec-WebSocket-Protocol: mqtt\r\n"), std::string::npos) << down_;
  EXPECT_NE(down_.find("Upgrade: websocket\r\n"), std::string::npos);
  PeerInfo info;
  ws_.describe(info);
  EXPECT_TRUE(info.websocket);
  EXPECT_EQ(info.websocket_subprotocol, "mqtt");
  EXPECT_EQ(info.websocket_path, "/mqtt");
}

// [MQTT-6.0.0-4]: the server answers "mqtt"; "mqttv3.1" only for a client
// that does not offer "mqtt".
TEST_F(WebSocketTransportTest, PrefersMqttAndFallsBackToMqttv31) {
  upgrade("chat, mqttv3.1, mqtt");
  EXPECT_NE(down_.find("Sec-WebSocket-Protocol: mqtt\r\n"), std::string::npos) << down_;
  WebSocketServerTransport legacy(settings_);
  std::string up, down;
  ASSERT_TRUE(legacy.on_input(bytes_of(upgrade_request("chat, mqttv3.1")), up, down).ok());
  EXPECT_NE(down.find("Sec-WebSocket-Protocol: mqttv3.1\r\n"), std::string::npos) << down;
}

TEST_F(WebSocketTransportTest, AcceptsAClientThatOffersNoSubprotocol) {
  upgrade("");
  EXPECT_EQ(down_.find("Sec-WebSocket-Protocol"), std::string::npos) << down_;
}

TEST_F(WebSocketTransportTest, RequestArrivingByteByByteWithFramesBehindIt) {
  std::string input = upgrade_request() + client_frame(websocket::binary, "hello");
  std::string up;
  for (char c : input) {
    down_.clear();
    ASSERT_TRUE(ws_.on_input(bytes_of(std::string_view(&c, 1)), up, down_).ok());
  }
  EXPECT_EQ(up, "hello");
}

TEST_F(WebSocketTransportTest, RefusesBadUpgradeRequestsWithAnHttpError) {
  struct Case {
    std::string request;
    std::string status;
  };
  std::string good = upgrade_request();
  auto without = [&](std::string_view header) {
    std::string r = good;
    size_t at = r.find(header);
    r.erase(at, r.find("\r\n", at) + 2 - at);
    return r;
  };
  std::vector<Case> cases = {
      {"POST /mqtt HTTP/1.1\r\nHost: x\r\n\r\n", "405"},
      {"GET /mqtt HTTP/1.0\r\nHost: x\r\n\r\n", "505"},
      {without("Host:"), "400"},
      {without("Upgrade:"), "400"},
      {without("Connection:"), "400"},
      {without("Sec-WebSocket-Key:"), "400"},
      {without("Sec-WebSocket-Version:"), "426"},
      {upgrade_request("chat"), "400"},
      {"garbage\r\n\r\n", "400"},
  };
  for (const Case& c : cases) {
    WebSocketServerTransport ws(settings_);
    std::string up, down;
    TransportStatus status = ws.on_input(bytes_of(c.request), up, down);
    EXPECT_FALSE(status.ok()) << c.request;
    EXPECT_EQ(down.rfind("HTTP/1.1 " + c.status, 0), 0u) << c.request << " -> " << down;
    EXPECT_FALSE(ws.established());
  }
}

TEST_F(WebSocketTransportTest, RefusesAnOversizedRequestBeforeItsEnd) {
  settings_.max_request_bytes = 256;
  TransportStatus status = feed("GET / HTTP/1.1\r\nX: " + std::string(300, 'a'));
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(down_.rfind("HTTP/1.1 431", 0), 0u) << down_;
}

TEST_F(WebSocketTransportTest, BinaryFramesOfEveryLengthEncodingAreUnmasked) {
  upgrade();
  for (size_t size : {0u, 1u, 125u, 126u, 65535u, 65536u, 200000u}) {
    std::string payload = pattern(size, static_cast<int>(size));
    ASSERT_TRUE(feed(client_frame(websocket::binary, payload)).ok());
    EXPECT_TRUE(up_ == payload) << size;
    EXPECT_TRUE(down_.empty());
  }
}

TEST_F(WebSocketTransportTest, FragmentedMessageIsOneStream) {
  upgrade();
  std::string input = client_frame(websocket::binary, "ab", false) +
                      client_frame(websocket::ping, "p") +  // control frames may come between fragments
                      client_frame(websocket::continuation, "cd", false) +
                      client_frame(websocket::continuation, "ef", true) +
                      client_frame(websocket::binary, "gh");
  ASSERT_TRUE(feed(input).ok());
  EXPECT_EQ(up_, "abcdefgh");
  auto frames = frames_in(down_);
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0].opcode(), websocket::pong);
}

TEST_F(WebSocketTransportTest, PingIsAnsweredWithAPongCarryingItsPayload) {
  upgrade();
  ASSERT_TRUE(feed(client_frame(websocket::ping, "are you there")).ok());
  auto frames = frames_in(down_);
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0].first_byte, 0x80 | websocket::pong);
  EXPECT_EQ(frames[0].payload, "are you there");
  EXPECT_TRUE(up_.empty());
}

TEST_F(WebSocketTransportTest, UnsolicitedPongIsIgnored) {
  upgrade();
  ASSERT_TRUE(feed(client_frame(websocket::pong, "x") + client_frame(websocket::binary, "y")).ok());
  EXPECT_EQ(up_, "y");
  EXPECT_TRUE(down_.empty());
}

TEST_F(WebSocketTransportTest, CloseFrameIsEchoedAndEndsTheConnectionInAnOrderlyWay) {
  upgrade();
  std::string close_payload = std::string("\x03\xe8", 2) + "bye";
  // Data in front of the close frame is still delivered (an MQTT DISCONNECT, say).
  TransportStatus status =
      feed(client_frame(websocket::binary, "last") + client_frame(websocket::close, close_payload));
  ASSERT_FALSE(status.ok());
  EXPECT_FALSE(status.error().failure);
  EXPECT_EQ(up_, "last");
  auto frames = frames_in(down_);
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0].opcode(), websocket::close);
  EXPECT_EQ(close_code(frames[0]), 1000);
  std::string after;
  ws_.goodbye(after);  // no second close frame
  EXPECT_TRUE(after.empty());
}

TEST_F(WebSocketTransportTest, EmptyCloseFrameIsAnsweredWithAnEmptyOne) {
  upgrade();
  ASSERT_FALSE(feed(client_frame(websocket::close, "")).ok());
  auto frames = frames_in(down_);
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_TRUE(frames[0].payload.empty());
}

// [MQTT-6.0.0-1]: a text frame closes the connection.
TEST_F(WebSocketTransportTest, TextFrameIsRefusedWith1003) {
  upgrade();
  expect_refused(client_frame(websocket::text, "{}"), websocket::unsupported_data);
}

TEST_F(WebSocketTransportTest, OversizedFrameIsRefusedWith1009BeforeItsPayload) {
  settings_.max_frame_bytes = 1000;
  upgrade();
  std::string frame = client_frame(websocket::binary, std::string(1001, 'x'));
  expect_refused(frame.substr(0, 8), websocket::message_too_big);  // the header alone suffices
}

TEST_F(WebSocketTransportTest, MalformedFramesAreRefusedWith1002) {
  std::string with_rsv = client_frame(websocket::binary, "x");
  with_rsv[0] = static_cast<char>(with_rsv[0] | 0x40);
  std::string huge_length = std::string("\x82\xff\x80\x00\x00\x00\x00\x00\x00\x00", 10) + "kkkk";
  std::vector<std::pair<std::string, std::string>> cases = {
      {"unmasked", client_frame(websocket::binary, "x", true, false)},
      {"reserved bit", with_rsv},
      {"unknown data opcode", client_frame(3, "x")},
      {"unknown control opcode", client_frame(11, "x")},
      {"fragmented ping", client_frame(websocket::ping, "x", false)},
      {"long ping", client_frame(websocket::ping, std::string(126, 'p'))},
      {"continuation first", client_frame(websocket::continuation, "x")},
      {"binary inside a message",
       client_frame(websocket::binary, "a", false) + client_frame(websocket::binary, "b")},
      {"64-bit length top bit", huge_length},
      {"one-byte close", client_frame(websocket::close, "x")},
      {"close code 1005", client_frame(websocket::close, "\x03\xed")},
      {"close code 999", client_frame(websocket::close, "\x03\xe7")},
  };
  for (const auto& [name, input] : cases) {
    SCOPED_TRACE(name);
    WebSocketServerTransport ws(settings_);
    std::string up, down;
    ASSERT_TRUE(ws.on_input(bytes_of(upgrade_request()), up, down).ok());
    down.clear();
    TransportStatus status = ws.on_input(bytes_of(input), up, down);
    ASSERT_FALSE(status.ok());
    auto frames = frames_in(down);
    ASSERT_EQ(frames.size(), 1u);
    EXPECT_EQ(close_code(frames[0]), websocket::protocol_error) << status.error().why;
  }
}

TEST_F(WebSocketTransportTest, CloseReasonThatIsNotUtf8IsRefusedWith1007) {
  upgrade();
  expect_refused(client_frame(websocket::close, std::string("\x03\xe8\xc0\xaf", 4)),
                 websocket::invalid_payload);
}

// [MQTT-6.0.0-2]: MQTT packets may span frames and frames may hold several
// packets; the layer above sees one byte stream either way.
TEST_F(WebSocketTransportTest, StreamSplitAcrossFramesAndReadsArrivesWhole) {
  upgrade();
  std::string stream = std::string("\x10\x0c\x00\x04MQTT\x04\x02\x00\x3c\x00\x00", 14) +  // CONNECT
                       std::string("\xc0\x00\xc0\x00\xe0\x00", 6);  // PINGREQ x2, DISCONNECT
  std::string wire;
  // Frames of 1, 2, 3, ... bytes, each fed to the transport in reads of 5.
  for (size_t at = 0, size = 1; at < stream.size(); at += size, ++size) {
    wire += client_frame(websocket::binary, stream.substr(at, size));
  }
  std::string got;
  for (size_t at = 0; at < wire.size(); at += 5) {
    ASSERT_TRUE(feed(std::string_view(wire).substr(at, 5)).ok());
    got += up_;
  }
  EXPECT_EQ(got, stream);
}

TEST_F(WebSocketTransportTest, OutputBecomesOneBinaryFrameAndGoodbyeACloseFrame) {
  upgrade();
  for (size_t size : {1u, 125u, 126u, 65535u, 65536u}) {
    std::string out, payload = pattern(size);
    ws_.wrap(payload, out);
    auto frames = frames_in(out);
    ASSERT_EQ(frames.size(), 1u);
    EXPECT_EQ(frames[0].first_byte, 0x80 | websocket::binary);
    EXPECT_TRUE(frames[0].payload == payload) << size;
  }
  std::string out;
  ws_.goodbye(out);
  auto frames = frames_in(out);
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(close_code(frames[0]), websocket::normal);
  out.clear();
  ws_.goodbye(out);
  ws_.wrap("after", out);
  EXPECT_TRUE(out.empty());
}

TEST_F(WebSocketTransportTest, NothingIsSentBeforeTheUpgrade) {
  std::string out;
  ws_.wrap("early", out);
  ws_.goodbye(out);
  EXPECT_TRUE(out.empty());
}

}  // namespace
}  // namespace stellwerk::net::testing

// WebSocket and PROXY listeners through the worker over real sockets: the
// handler sees a byte stream and the peer's details, frames and closes go
// both ways, and WebSocket runs over TLS too.
#include <gtest/gtest.h>

#include "net/websocket_transport.h"
#include "net/worker.h"
#include "transport_test_support.h"

namespace stellwerk::net::testing {
namespace {

class TransportWorkerTest : public WorkerFixture {
 protected:
  std::shared_ptr<TransportStack> websocket_stack() {
    auto stack = std::make_shared<TransportStack>();
    stack->websocket = WebSocketSettings{};
    return stack;
  }
  ConnectionId only_connection() {
    EXPECT_TRUE(wait_until([&] { return handler_.opened().size() == 1; }));
    return handler_.opened().at(0).id;
  }
};

TEST_F(TransportWorkerTest, WebSocketEchoArrivesAsBinaryFrames) {
  start(1, {}, websocket_stack());
  TestClient client(port());
  ByteStream stream = stream_of(client);
  std::string head = websocket_upgrade(stream);
  EXPECT_NE(head.find("Sec-WebSocket-Protocol: mqtt\r\n"), std::string::npos);
  ASSERT_TRUE(client.send_all(client_frame(websocket::binary, "hello")));
  ServerFrame echo = read_server_frame(stream);
  ASSERT_TRUE(echo.ok);
  EXPECT_EQ(echo.first_byte, 0x80 | websocket::binary);
  EXPECT_EQ(echo.payload, "hello");
  auto infos = handler_.peer_infos();
  ASSERT_EQ(infos.size(), 1u);
  EXPECT_TRUE(infos[0].second.websocket);
  EXPECT_EQ(infos[0].second.websocket_subprotocol, "mqtt");
  EXPECT_FALSE(infos[0].second.tls);
}

// [MQTT-6.0.0-2]: packets split over frames and several packets in a frame.
TEST_F(TransportWorkerTest, HandlerSeesOneStreamWhateverTheFraming) {
  handler_.when_data = [](Worker&, ConnectionId, std::span<const uint8_t>) {};
  start(1, {}, websocket_stack());
  TestClient client(port());
  ByteStream stream = stream_of(client);
  websocket_upgrade(stream);
  std::string packets = pattern(3000, 5);
  ASSERT_TRUE(client.send_all(client_frame(websocket::binary, packets.substr(0, 1000), false) +
                              client_frame(websocket::continuation, packets.substr(1000, 1), false)));
  ASSERT_TRUE(client.send_all(client_frame(websocket::ping, "p")));
  ASSERT_TRUE(client.send_all(client_frame(websocket::continuation, packets.substr(1001, 999)) +
                              client_frame(websocket::binary, packets.substr(2000))));
  ServerFrame pong = read_server_frame(stream);
  EXPECT_EQ(pong.opcode(), websocket::pong);
  ConnectionId id = only_connection();
  EXPECT_TRUE(wait_until([&] { return handler_.received(id).size() == packets.size(); }));
  EXPECT_TRUE(handler_.received(id) == packets);
}

TEST_F(TransportWorkerTest, OneFramePerTurnForManySends) {
  handler_.when_data = [](Worker& w, ConnectionId id, std::span<const uint8_t>) {
    for (int i = 0; i < 10; ++i) w.send(id, std::string_view("ab"));
  };
  start(1, {}, websocket_stack());
  TestClient client(port());
  ByteStream stream = stream_of(client);
  websocket_upgrade(stream);
  ASSERT_TRUE(client.send_all(client_frame(websocket::binary, "go")));
  ServerFrame batch = read_server_frame(stream);
  EXPECT_EQ(batch.payload, "abababababababababab");
}

TEST_F(TransportWorkerTest, ClientCloseIsAnsweredAndTheHandlerTold) {
  start(1, {}, websocket_stack());
  TestClient client(port());
  ByteStream stream = stream_of(client);
  websocket_upgrade(stream);
  ASSERT_TRUE(client.send_all(client_frame(websocket::close, std::string("\x03\xe8", 2))));
  ServerFrame answer = read_server_frame(stream);
  EXPECT_EQ(answer.opcode(), websocket::close);
  EXPECT_EQ(close_code(answer), 1000);
  EXPECT_EQ(client.read_to_end(), "");  // then the server closes the TCP connection
  ASSERT_TRUE(wait_until([&] { return handler_.closed().size() == 1; }));
  EXPECT_EQ(handler_.closed()[0].second, "websocket close from the peer (code 1000)");
  EXPECT_EQ(worker(0).stats().transport_failures, 0u);
}

TEST_F(TransportWorkerTest, HandlerCloseSendsItsDataThenACloseFrame) {
  handler_.when_data = [](Worker& w, ConnectionId id, std::span<const uint8_t>) {
    w.send(id, std::string_view("last words"));
    w.close(id);
  };
  start(1, {}, websocket_stack());
  TestClient client(port());
  ByteStream stream = stream_of(client);
  websocket_upgrade(stream);
  ASSERT_TRUE(client.send_all(client_frame(websocket::binary, "x")));
  EXPECT_EQ(read_server_frame(stream).payload, "last words");
  ServerFrame close = read_server_frame(stream);
  EXPECT_EQ(close.opcode(), websocket::close);
  EXPECT_EQ(close_code(close), 1000);
}

TEST_F(TransportWorkerTest, TextFrameClosesWith1003AndTellsTheHandler) {
  start(1, {}, websocket_stack());
  TestClient client(port());
  ByteStream stream = stream_of(client);
  websocket_upgrade(stream);
  ASSERT_TRUE(client.send_all(client_frame(websocket::text, "hi")));
  ServerFrame close = read_server_frame(stream);
  EXPECT_EQ(close_code(close), 1003);
  ASSERT_TRUE(wait_until([&] { return handler_.closed().size() == 1; }));
  EXPECT_EQ(worker(0).stats().transport_failures, 1u);
}

TEST_F(TransportWorkerTest, BadUpgradeGetsAnHttpErrorAndNoPeerInfo) {
  start(1, {}, websocket_stack());
  TestClient client(port());
  ASSERT_TRUE(client.send_all("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
  EXPECT_EQ(client.read_to_end().rfind("HTTP/1.1 400 Bad Request\r\n", 0), 0u);
  ASSERT_TRUE(wait_until([&] { return handler_.closed().size() == 1; }));
  EXPECT_TRUE(handler_.peer_infos().empty());
}

TEST_F(TransportWorkerTest, OutputQueuedBeforeTheUpgradeWaitsForIt) {
  handler_.when_open = [](Worker& w, ConnectionId id) { w.send(id, std::string_view("early")); };
  start(1, {}, websocket_stack());
  TestClient client(port());
  ByteStream stream = stream_of(client);
  websocket_upgrade(stream);  // the 101 comes first
  EXPECT_EQ(read_server_frame(stream).payload, "early");
}

TEST_F(TransportWorkerTest, WebSocketOverTls) {
  auto stack = websocket_stack();
  auto context = make_tls_context(TestPki::get().server_settings());
  ASSERT_TRUE(context.ok()) << context.error();
  stack->tls = context.value();
  start(1, {}, stack);
  TlsTestClient client(port(), {.cafile = TestPki::get().path("ca.crt")});
  ASSERT_TRUE(client.handshake()) << client.error();
  ByteStream stream = stream_of(client);
  websocket_upgrade(stream, "mqttv3.1");
  std::string big = pattern(70000, 1);
  ASSERT_TRUE(client.write(client_frame(websocket::binary, big)));
  // The echo may come in several frames: each turn's output makes one.
  std::string echoed;
  while (echoed.size() < big.size()) {
    ServerFrame frame = read_server_frame(stream);
    ASSERT_TRUE(frame.ok && frame.opcode() == websocket::binary);
    echoed += frame.payload;
  }
  EXPECT_TRUE(echoed == big);
  ASSERT_TRUE(client.write(client_frame(websocket::ping, "tls")));
  ServerFrame pong = read_server_frame(stream);
  EXPECT_EQ(pong.opcode(), websocket::pong);
  EXPECT_EQ(pong.payload, "tls");
  auto infos = handler_.peer_infos();
  ASSERT_EQ(infos.size(), 1u);
  EXPECT_TRUE(infos[0].second.tls);
  EXPECT_TRUE(infos[0].second.websocket);
  EXPECT_EQ(infos[0].second.websocket_subprotocol, "mqttv3.1");
}

TEST_F(TransportWorkerTest, ProxyV1NamesTheRealPeerBeforeTheFirstData) {
  auto stack = std::make_shared<TransportStack>();
  stack->proxy = ProxyProtocol::any;
  start(1, {}, stack);
  TestClient client(port());
  ASSERT_TRUE(client.send_all("PROXY TCP4 192.0.2.7 10.0.0.1 51000 1883\r\nhello"));
  EXPECT_EQ(client.read_exactly(5), "hello");
  auto infos = handler_.peer_infos();
  ASSERT_EQ(infos.size(), 1u);
  EXPECT_EQ(infos[0].second.address.text, "192.0.2.7:51000");
  EXPECT_TRUE(infos[0].second.via_proxy);
}

TEST_F(TransportWorkerTest, ProxyV2ThenTlsThenWebSocket) {
  auto stack = websocket_stack();
  stack->proxy = ProxyProtocol::v2;
  stack->tls = make_tls_context(TestPki::get().server_settings()).value();
  start(1, {}, stack);
  TlsTestClient client(port(), {.cafile = TestPki::get().path("ca.crt")});
  std::string header("\r\n\r\n\0\r\nQUIT\n\x21\x11\x00\x0c", 16);
  header += std::string("\xc0\x00\x02\x07\x0a\x00\x00\x01\xc7\x38\x07\x5b", 12);
  ASSERT_TRUE(client.socket().send_all(header));
  ASSERT_TRUE(client.handshake()) << client.error();
  ByteStream stream = stream_of(client);
  websocket_upgrade(stream);
  ASSERT_TRUE(client.write(client_frame(websocket::binary, "layered")));
  EXPECT_EQ(read_server_frame(stream).payload, "layered");
  auto infos = handler_.peer_infos();
  ASSERT_EQ(infos.size(), 1u);
  EXPECT_EQ(infos[0].second.address.text, "192.0.2.7:51000");
  EXPECT_TRUE(infos[0].second.tls && infos[0].second.websocket);
}

TEST_F(TransportWorkerTest, MissingProxyHeaderIsRefused) {
  auto stack = std::make_shared<TransportStack>();
  stack->proxy = ProxyProtocol::v1;
  start(1, {}, stack);
  TestClient client(port());
  ASSERT_TRUE(client.send_all("\x10\x0c\x00\x04MQTT"));
  EXPECT_EQ(client.read_to_end(), "");
  ASSERT_TRUE(wait_until([&] { return handler_.closed().size() == 1; }));
  EXPECT_NE(handler_.closed()[0].second.find("PROXY header refused"), std::string::npos);
}

}  // namespace
}  // namespace stellwerk::net::testing

// Helpers for the transport tests: a throw-away PKI made with the openssl
// command, a blocking TLS client on a TestClient's socket, and WebSocket
// client framing (masked frames out, server frames in).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "net/tls_context.h"
#include "net_test_support.h"

struct ssl_st;
struct ssl_ctx_st;

namespace stellwerk::net::testing {

// A CA with a server certificate (CN=localhost), client certificates alice
// (valid) and mallory (revoked in crl.pem), and eve from another CA. Made once
// per test binary in a temporary directory, removed at exit.
class TestPki {
 public:
  static const TestPki& get();
  std::string path(std::string_view file) const { return dir_ + "/" + std::string(file); }
  // cafile, certfile and keyfile for the server.
  TlsSettings server_settings() const;

 private:
  TestPki();
  std::string dir_;
};

struct TlsClientOptions {
  std::string cafile;  // verify the server against this ("" = do not verify)
  std::string certfile, keyfile;
  int min_version = 0, max_version = 0;  // TLS1_2_VERSION etc.; 0 = OpenSSL's default
  std::string cipher_list;               // TLS 1.2
  std::string psk_identity, psk_key;     // key in hex
};

// A blocking TLS client over a TestClient connected to `port`.
class TlsTestClient {
 public:
  TlsTestClient(uint16_t port, const TlsClientOptions& options);
  ~TlsTestClient();
  TlsTestClient(const TlsTestClient&) = delete;
  TlsTestClient& operator=(const TlsTestClient&) = delete;

  // Runs the handshake; false with error() set when it fails.
  bool handshake();
  bool write(std::string_view bytes);
  // Reads until `count` bytes, a TLS or socket error, or close_notify.
  std::string read_exactly(size_t count);
  // True when the connection ends (close_notify, alert, EOF) rather than
  // delivering data; within the socket's 5 s timeout.
  bool reads_end();
  bool received_close_notify() const;
  std::string version() const;
  const std::string& error() const { return error_; }
  TestClient& socket() { return socket_; }

 private:
  TestClient socket_;
  TlsClientOptions options_;
  ssl_ctx_st* ctx_ = nullptr;
  ssl_st* ssl_ = nullptr;
  std::string error_;
};

// Byte transport used by the WebSocket client helpers: plain TCP or TLS.
struct ByteStream {
  std::function<bool(std::string_view)> write;
  std::function<std::string(size_t)> read_exactly;
};
ByteStream stream_of(TestClient& client);
ByteStream stream_of(TlsTestClient& client);

// A masked client frame. `fin` false leaves the message open; `mask` false
// makes the (invalid) unmasked frame.
std::string client_frame(uint8_t opcode, std::string_view payload, bool fin = true, bool mask = true);

std::string upgrade_request(std::string_view protocols = "mqtt", std::string_view path = "/mqtt");

struct ServerFrame {
  uint8_t first_byte = 0;  // FIN, RSV and opcode
  uint8_t opcode() const { return first_byte & 0x0F; }
  std::string payload;
  bool ok = false;  // false: the stream ended first
};
// Reads one unmasked server frame.
ServerFrame read_server_frame(ByteStream& stream);
// Reads the HTTP response head up to its blank line.
std::string read_http_head(ByteStream& stream);
// Sends the upgrade request and checks for 101; returns the head.
std::string websocket_upgrade(ByteStream& stream, std::string_view protocols = "mqtt");

uint16_t close_code(const ServerFrame& frame);

}  // namespace stellwerk::net::testing

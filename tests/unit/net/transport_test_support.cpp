// Transport test helpers: see transport_test_support.h.
#include "transport_test_support.h"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <stdlib.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>

namespace stellwerk::net::testing {
namespace {

constexpr std::string_view kOpensslConfig = R"(
[req]
distinguished_name = dn
[dn]
[v3_ca]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
[v3_leaf]
basicConstraints = CA:FALSE
subjectAltName = DNS:localhost,IP:127.0.0.1
[ca]
default_ca = ca_default
[ca_default]
database = index.txt
crlnumber = crlnumber
default_md = sha256
default_crl_days = 2
)";

// EC keys: generated in milliseconds, unlike RSA.
constexpr std::string_view kMakePki = R"(set -e
key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1.key"; }
ca() { key "$1"; openssl req -x509 -new -config openssl.cnf -extensions v3_ca -key "$1.key" -subj "$2" -days 2 -out "$1.crt"; }
leaf() {
  key "$1"
  openssl req -new -config openssl.cnf -key "$1.key" -subj "$2" -out "$1.csr"
  openssl x509 -req -in "$1.csr" -CA "$4.crt" -CAkey "$4.key" -set_serial "$3" -days 2 \
    -extfile openssl.cnf -extensions v3_leaf -out "$1.crt"
}
ca ca "/CN=Stellwerk Test CA"
leaf server "/CN=localhost" 1 ca
leaf alice "/O=Stellwerk Tests/CN=alice" 2 ca
leaf mallory "/CN=mallory" 3 ca
ca other "/CN=Other CA"
leaf eve "/CN=eve" 4 other
touch index.txt
echo 01 > crlnumber
openssl ca -config openssl.cnf -keyfile ca.key -cert ca.crt -revoke mallory.crt
openssl ca -config openssl.cnf -gencrl -keyfile ca.key -cert ca.crt -out crl.pem
)";

void write_file(const std::string& path, std::string_view contents) {
  std::ofstream out(path, std::ios::binary);
  out << contents;
}

unsigned int client_psk(SSL* ssl, const char* /*hint*/, char* identity, unsigned int max_identity_len,
                        unsigned char* psk, unsigned int max_psk_len) {
  const auto* options = static_cast<const TlsClientOptions*>(SSL_get_app_data(ssl));
  if (options->psk_identity.size() + 1 > max_identity_len) return 0;
  std::memcpy(identity, options->psk_identity.c_str(), options->psk_identity.size() + 1);
  std::string key;
  for (size_t i = 0; i + 1 < options->psk_key.size(); i += 2) {
    key.push_back(static_cast<char>(std::stoi(options->psk_key.substr(i, 2), nullptr, 16)));
  }
  if (key.size() > max_psk_len) return 0;
  std::memcpy(psk, key.data(), key.size());
  return static_cast<unsigned int>(key.size());
}

std::string openssl_errors() {
  std::string text;
  while (unsigned long e = ERR_get_error()) {
    char buffer[256];
    ERR_error_string_n(e, buffer, sizeof buffer);
    text += buffer;
    text += "; ";
  }
  return text;
}

}  // namespace

const TestPki& TestPki::get() {
  static const TestPki pki;
  return pki;
}

TestPki::TestPki() {
  char pattern[] = "/tmp/stellwerk-pki-XXXXXX";
  dir_ = ::mkdtemp(pattern);
  write_file(path("openssl.cnf"), kOpensslConfig);
  write_file(path("make.sh"), kMakePki);
  std::string command = "cd '" + dir_ + "' && sh make.sh > make.log 2>&1";
  if (std::system(command.c_str()) != 0)
    ADD_FAILURE() << "making the test PKI failed; see " << path("make.log");
  // Removed when the test binary exits, whatever the outcome.
  static std::string to_remove = dir_;
  std::atexit([] { std::filesystem::remove_all(to_remove); });
}

TlsSettings TestPki::server_settings() const {
  TlsSettings s;
  s.cafile = path("ca.crt");
  s.certfile = path("server.crt");
  s.keyfile = path("server.key");
  return s;
}

TlsTestClient::TlsTestClient(uint16_t port, const TlsClientOptions& options)
    : socket_(port), options_(options), ctx_(SSL_CTX_new(TLS_client_method())) {
  if (options_.min_version != 0) SSL_CTX_set_min_proto_version(ctx_, options_.min_version);
  if (options_.max_version != 0) SSL_CTX_set_max_proto_version(ctx_, options_.max_version);
  if (!options_.cafile.empty()) {
    SSL_CTX_load_verify_locations(ctx_, options_.cafile.c_str(), nullptr);
    SSL_CTX_set_verify(ctx_, SSL_VERIFY_PEER, nullptr);
  }
  if (!options_.certfile.empty()) {
    EXPECT_EQ(SSL_CTX_use_certificate_chain_file(ctx_, options_.certfile.c_str()), 1);
    EXPECT_EQ(SSL_CTX_use_PrivateKey_file(ctx_, options_.keyfile.c_str(), SSL_FILETYPE_PEM), 1);
  }
  if (!options_.cipher_list.empty()) SSL_CTX_set_cipher_list(ctx_, options_.cipher_list.c_str());
  if (!options_.psk_identity.empty()) SSL_CTX_set_psk_client_callback(ctx_, client_psk);
  ssl_ = SSL_new(ctx_);
  SSL_set_app_data(ssl_, &options_);
  SSL_set_fd(ssl_, socket_.fd());
  SSL_set_tlsext_host_name(ssl_, "localhost");
}

TlsTestClient::~TlsTestClient() {
  SSL_free(ssl_);
  SSL_CTX_free(ctx_);
}

bool TlsTestClient::handshake() {
  ERR_clear_error();
  if (SSL_connect(ssl_) == 1) return true;
  error_ = openssl_errors();
  return false;
}

bool TlsTestClient::write(std::string_view bytes) {
  size_t written = 0;
  ERR_clear_error();
  return SSL_write_ex(ssl_, bytes.data(), bytes.size(), &written) == 1 && written == bytes.size();
}

std::string TlsTestClient::read_exactly(size_t count) {
  std::string out(count, '\0');
  size_t have = 0;
  while (have < count) {
    size_t got = 0;
    ERR_clear_error();
    if (SSL_read_ex(ssl_, out.data() + have, count - have, &got) != 1) break;
    have += got;
  }
  out.resize(have);
  return out;
}

bool TlsTestClient::reads_end() {
  char byte;
  size_t got = 0;
  ERR_clear_error();
  int result = SSL_read_ex(ssl_, &byte, 1, &got);
  if (result == 1) return false;
  int error = SSL_get_error(ssl_, result);
  bool timed_out = error == SSL_ERROR_SYSCALL && (errno == EAGAIN || errno == EWOULDBLOCK);
  error_ = openssl_errors();
  return !timed_out;
}

bool TlsTestClient::received_close_notify() const {
  return (SSL_get_shutdown(ssl_) & SSL_RECEIVED_SHUTDOWN) != 0;
}

std::string TlsTestClient::version() const { return SSL_get_version(ssl_); }

ByteStream stream_of(TestClient& client) {
  return {[&client](std::string_view b) { return client.send_all(b); },
          [&client](size_t n) { return client.read_exactly(n); }};
}

ByteStream stream_of(TlsTestClient& client) {
  return {[&client](std::string_view b) { return client.write(b); },
          [&client](size_t n) { return client.read_exactly(n); }};
}

std::string client_frame(uint8_t opcode, std::string_view payload, bool fin, bool mask) {
  std::string frame;
  frame.push_back(static_cast<char>((fin ? 0x80 : 0) | opcode));
  uint8_t mask_bit = mask ? 0x80 : 0;
  if (payload.size() < 126) {
    frame.push_back(static_cast<char>(mask_bit | payload.size()));
  } else if (payload.size() <= 0xFFFF) {
    frame.push_back(static_cast<char>(mask_bit | 126));
    for (int shift : {8, 0}) frame.push_back(static_cast<char>((payload.size() >> shift) & 0xFF));
  } else {
    frame.push_back(static_cast<char>(mask_bit | 127));
    for (int shift = 56; shift >= 0; shift -= 8)
      frame.push_back(static_cast<char>((payload.size() >> shift) & 0xFF));
  }
  const char key[4] = {0x37, static_cast<char>(0xfa), 0x21, 0x3d};
  if (mask) frame.append(key, 4);
  for (size_t i = 0; i < payload.size(); ++i)
    frame.push_back(mask ? static_cast<char>(payload[i] ^ key[i % 4]) : payload[i]);
  return frame;
}

std::string upgrade_request(std::string_view protocols, std::string_view path) {
  std::string request = "GET " + std::string(path) +
                        " HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n";
  if (!protocols.empty()) request += "Sec-WebSocket-Protocol: " + std::string(protocols) + "\r\n";
  return request + "\r\n";
}

ServerFrame read_server_frame(ByteStream& stream) {
  ServerFrame frame;
  std::string head = stream.read_exactly(2);
  if (head.size() != 2) return frame;
  frame.first_byte = static_cast<uint8_t>(head[0]);
  uint64_t length = static_cast<uint8_t>(head[1]) & 0x7F;
  size_t extended = length == 126 ? 2 : (length == 127 ? 8 : 0);
  if (extended > 0) {
    std::string bytes = stream.read_exactly(extended);
    if (bytes.size() != extended) return frame;
    length = 0;
    for (char c : bytes) length = (length << 8) | static_cast<uint8_t>(c);
  }
  frame.payload = stream.read_exactly(static_cast<size_t>(length));
  frame.ok = frame.payload.size() == length;
  return frame;
}

std::string read_http_head(ByteStream& stream) {
  std::string head;
  while (head.size() < 8192 && (head.size() < 4 || head.compare(head.size() - 4, 4, "\r\n\r\n") != 0)) {
    std::string byte = stream.read_exactly(1);
    if (byte.empty()) break;
    head += byte;
  }
  return head;
}

std::string websocket_upgrade(ByteStream& stream, std::string_view protocols) {
  EXPECT_TRUE(stream.write(upgrade_request(protocols)));
  std::string head = read_http_head(stream);
  EXPECT_EQ(head.rfind("HTTP/1.1 101 ", 0), 0u) << head;
  return head;
}

uint16_t close_code(const ServerFrame& frame) {
  if (frame.payload.size() < 2) return 0;
  return static_cast<uint16_t>((static_cast<uint8_t>(frame.payload[0]) << 8) |
                               static_cast<uint8_t>(frame.payload[1]));
}

}  // namespace stellwerk::net::testing

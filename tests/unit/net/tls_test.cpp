// TLS through the worker with a throw-away PKI: handshake and echo, client
// certificates required, accepted, rejected and revoked, protocol versions,
// PSK, reloading, context errors and psk_file parsing.
#include <gtest/gtest.h>
#include <openssl/ssl.h>

#include "net/tls_context.h"
#include "net/worker.h"
#include "transport_test_support.h"

namespace stellwerk::net::testing {
namespace {

class TlsTest : public WorkerFixture {
 protected:
  const TestPki& pki_ = TestPki::get();

  void start_tls(const TlsSettings& settings) {
    auto context = make_tls_context(settings);
    ASSERT_TRUE(context.ok()) << context.error();
    auto stack = std::make_shared<TransportStack>();
    stack->tls = context.value();
    start(1, {}, stack);
  }
  TlsClientOptions trusting_client() const { return {.cafile = pki_.path("ca.crt")}; }
  TlsClientOptions client_with(std::string_view name) const {
    TlsClientOptions o = trusting_client();
    o.certfile = pki_.path(std::string(name) + ".crt");
    o.keyfile = pki_.path(std::string(name) + ".key");
    return o;
  }
  TlsSettings requiring_certificates() const {
    TlsSettings s = pki_.server_settings();
    s.require_certificate = true;
    return s;
  }
  // The handshake fails, or (TLS 1.3, where the client finishes before the
  // server has checked its certificate) the first read finds the alert.
  void expect_refused(TlsTestClient& client, std::string_view reason) {
    if (client.handshake()) {
      client.write("x");
      EXPECT_TRUE(client.reads_end());
    }
    ASSERT_TRUE(wait_until([&] { return handler_.closed().size() == 1; }));
    EXPECT_NE(handler_.closed()[0].second.find(reason), std::string::npos) << handler_.closed()[0].second;
    EXPECT_TRUE(handler_.peer_infos().empty());
    EXPECT_EQ(worker(0).stats().transport_failures, 1u);
  }
};

TEST_F(TlsTest, HandshakeThenEchoAndPeerInfo) {
  start_tls(pki_.server_settings());
  TlsTestClient client(port(), trusting_client());
  ASSERT_TRUE(client.handshake()) << client.error();
  std::string payload = pattern(100000);
  ASSERT_TRUE(client.write(payload));
  EXPECT_TRUE(client.read_exactly(payload.size()) == payload);
  auto infos = handler_.peer_infos();
  ASSERT_EQ(infos.size(), 1u);
  EXPECT_TRUE(infos[0].second.tls);
  EXPECT_EQ(infos[0].second.tls_version, "TLSv1.3");
  EXPECT_TRUE(infos[0].second.certificate_subject.empty());  // none asked for
  EXPECT_EQ(infos[0].second.address.text.rfind("127.0.0.1:", 0), 0u);
}

TEST_F(TlsTest, RequiredClientCertificateIsVerifiedAndNamed) {
  start_tls(requiring_certificates());
  TlsTestClient client(port(), client_with("alice"));
  ASSERT_TRUE(client.handshake()) << client.error();
  ASSERT_TRUE(client.write("ping"));
  EXPECT_EQ(client.read_exactly(4), "ping");
  auto infos = handler_.peer_infos();
  ASSERT_EQ(infos.size(), 1u);
  EXPECT_EQ(infos[0].second.certificate_subject, "CN=alice,O=Stellwerk Tests");
  EXPECT_EQ(infos[0].second.certificate_common_name, "alice");
}

TEST_F(TlsTest, MissingClientCertificateIsRefused) {
  start_tls(requiring_certificates());
  TlsTestClient client(port(), trusting_client());
  expect_refused(client, "TLS handshake failed: peer did not return a certificate");
}

TEST_F(TlsTest, CertificateFromAnotherCaIsRefused) {
  start_tls(requiring_certificates());
  TlsTestClient client(port(), client_with("eve"));
  expect_refused(client, "certificate verify failed");
}

TEST_F(TlsTest, RevokedCertificateIsRefusedAndAValidOneAcceptedWithTheCrl) {
  TlsSettings settings = requiring_certificates();
  settings.crlfile = pki_.path("crl.pem");
  start_tls(settings);
  {
    TlsTestClient alice(port(), client_with("alice"));
    ASSERT_TRUE(alice.handshake()) << alice.error();
    ASSERT_TRUE(alice.write("ok"));
    EXPECT_EQ(alice.read_exactly(2), "ok");
  }
  ASSERT_TRUE(wait_until([&] { return handler_.closed().size() == 1; }));
  TlsTestClient mallory(port(), client_with("mallory"));
  if (mallory.handshake()) {
    mallory.write("x");
    EXPECT_TRUE(mallory.reads_end());
  }
  ASSERT_TRUE(wait_until([&] { return handler_.closed().size() == 2; }));
  EXPECT_NE(handler_.closed()[1].second.find("certificate revoked"), std::string::npos)
      << handler_.closed()[1].second;
}

TEST_F(TlsTest, Tls12IsAMinimumLikeMosquitto) {
  TlsSettings settings = pki_.server_settings();
  settings.tls_version = "tlsv1.2";
  start_tls(settings);
  TlsClientOptions old_only = trusting_client();
  old_only.max_version = TLS1_2_VERSION;
  TlsTestClient v12(port(), old_only);
  ASSERT_TRUE(v12.handshake()) << v12.error();
  EXPECT_EQ(v12.version(), "TLSv1.2");
  TlsClientOptions modern = trusting_client();
  modern.min_version = TLS1_3_VERSION;
  TlsTestClient v13(port(), modern);
  ASSERT_TRUE(v13.handshake()) << v13.error();
  EXPECT_EQ(v13.version(), "TLSv1.3");
  ASSERT_TRUE(v13.write("13"));
  EXPECT_EQ(v13.read_exactly(2), "13");
}

TEST_F(TlsTest, Tls13OnlyListener) {
  TlsSettings settings = pki_.server_settings();
  settings.tls_version = "tlsv1.3";
  start_tls(settings);
  TlsClientOptions old = trusting_client();
  old.max_version = TLS1_2_VERSION;
  TlsTestClient refused(port(), old);
  EXPECT_FALSE(refused.handshake());
  TlsTestClient accepted(port(), trusting_client());
  ASSERT_TRUE(accepted.handshake()) << accepted.error();
  EXPECT_EQ(accepted.version(), "TLSv1.3");
}

TEST_F(TlsTest, DefaultListenerRefusesTls11) {
  start_tls(pki_.server_settings());
  TlsClientOptions ancient = trusting_client();
  ancient.max_version = TLS1_1_VERSION;
  TlsTestClient client(port(), ancient);
  EXPECT_FALSE(client.handshake());
}

TlsSettings psk_only(std::string_view version) {
  TlsSettings s;
  s.tls_version = version;
  s.psk_hint = "stellwerk";
  s.psk_lookup = psk_lookup_from(PskTable{{"sensor-1", "00112233445566778899aabbccddeeff"}});
  return s;
}

TEST_F(TlsTest, PskOverTls12NamesTheIdentity) {
  start_tls(psk_only("tlsv1.2"));
  TlsTestClient client(
      port(),
      {.cipher_list = "PSK", .psk_identity = "sensor-1", .psk_key = "00112233445566778899aabbccddeeff"});
  ASSERT_TRUE(client.handshake()) << client.error();
  ASSERT_TRUE(client.write("psk"));
  EXPECT_EQ(client.read_exactly(3), "psk");
  auto infos = handler_.peer_infos();
  ASSERT_EQ(infos.size(), 1u);
  EXPECT_EQ(infos[0].second.psk_identity, "sensor-1");
}

TEST_F(TlsTest, PskOverTls13) {
  start_tls(psk_only("tlsv1.3"));
  TlsTestClient client(port(), {.psk_identity = "sensor-1", .psk_key = "00112233445566778899aabbccddeeff"});
  ASSERT_TRUE(client.handshake()) << client.error();
  ASSERT_TRUE(client.write("psk13"));
  EXPECT_EQ(client.read_exactly(5), "psk13");
  ASSERT_EQ(handler_.peer_infos().size(), 1u);
  EXPECT_EQ(handler_.peer_infos()[0].second.psk_identity, "sensor-1");
}

TEST_F(TlsTest, UnknownPskIdentityOrWrongKeyIsRefused) {
  start_tls(psk_only("tlsv1.2"));
  TlsTestClient stranger(port(), {.cipher_list = "PSK", .psk_identity = "nobody", .psk_key = "0011"});
  EXPECT_FALSE(stranger.handshake());
  TlsTestClient wrong_key(port(), {.cipher_list = "PSK", .psk_identity = "sensor-1", .psk_key = "ffff"});
  EXPECT_FALSE(wrong_key.handshake());
  ASSERT_TRUE(wait_until([&] { return handler_.closed().size() == 2; }));
}

TEST_F(TlsTest, PlainBytesOnATlsListenerAreRefusedWithoutHarm) {
  start_tls(pki_.server_settings());
  TestClient plain(port());
  ASSERT_TRUE(plain.send_all(std::string("\x10\x0c\x00\x04MQTT\x04\x02\x00\x3c\x00\x00", 14)));
  plain.read_to_end();
  ASSERT_TRUE(wait_until([&] { return handler_.closed().size() == 1; }));
  EXPECT_NE(handler_.closed()[0].second.find("TLS handshake failed"), std::string::npos);
  TlsTestClient after(port(), trusting_client());  // the worker is fine
  EXPECT_TRUE(after.handshake()) << after.error();
}

TEST_F(TlsTest, SlowHandshakeDoesNotStallOthersAndTimesOut) {
  auto context = make_tls_context(pki_.server_settings());
  ASSERT_TRUE(context.ok());
  auto stack = std::make_shared<TransportStack>();
  stack->tls = context.value();
  stack->handshake_timeout = milliseconds(500);
  start(1, {}, stack);
  TestClient silent(port());
  ASSERT_TRUE(silent.send_all(std::string("\x16\x03\x01", 3)));  // the start of a ClientHello, then nothing
  TlsTestClient other(port(), trusting_client());
  ASSERT_TRUE(other.handshake()) << other.error();
  ASSERT_TRUE(other.write("still served"));
  EXPECT_EQ(other.read_exactly(12), "still served");
  silent.read_to_end();  // the server gives up on it
  ASSERT_TRUE(wait_until([&] { return handler_.closed().size() == 1; }));
  EXPECT_NE(handler_.closed()[0].second.find("handshake not finished within 500 ms"), std::string::npos);
}

TEST_F(TlsTest, ServerCloseSendsCloseNotify) {
  handler_.when_data = [](Worker& w, ConnectionId id, std::span<const uint8_t>) {
    w.send(id, std::string_view("bye"));
    w.close(id);
  };
  start_tls(pki_.server_settings());
  TlsTestClient client(port(), trusting_client());
  ASSERT_TRUE(client.handshake());
  ASSERT_TRUE(client.write("x"));
  EXPECT_EQ(client.read_exactly(3), "bye");
  EXPECT_TRUE(client.reads_end());
  EXPECT_TRUE(client.received_close_notify());
}

TEST_F(TlsTest, ReloadedContextServesNewConnections) {
  start_tls(pki_.server_settings());
  TlsTestClient before(port(), trusting_client());
  ASSERT_TRUE(before.handshake());
  set_transports([&] {
    auto stack = std::make_shared<TransportStack>();
    stack->tls = make_tls_context(requiring_certificates()).value();
    return stack;
  }());
  TlsTestClient without_certificate(port(), trusting_client());
  if (without_certificate.handshake()) {
    without_certificate.write("x");
    EXPECT_TRUE(without_certificate.reads_end());
  }
  TlsTestClient alice(port(), client_with("alice"));
  ASSERT_TRUE(alice.handshake()) << alice.error();
  // The connection made before the reload carries on with the old context.
  ASSERT_TRUE(before.write("old"));
  EXPECT_EQ(before.read_exactly(3), "old");
}

TEST(TlsContextTest, ErrorsNameTheSettingAndTheReason) {
  const TestPki& pki = TestPki::get();
  TlsSettings s = pki.server_settings();
  s.certfile = "/nonexistent/cert.pem";
  auto missing = make_tls_context(s);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().rfind("certfile /nonexistent/cert.pem: ", 0), 0u) << missing.error();

  s = pki.server_settings();
  s.keyfile = pki.path("alice.key");
  auto mismatch = make_tls_context(s);
  ASSERT_FALSE(mismatch.ok());
  EXPECT_NE(mismatch.error().find("keyfile"), std::string::npos) << mismatch.error();

  s = pki.server_settings();
  s.tls_version = "tlsv1.1";
  EXPECT_FALSE(make_tls_context(s).ok());
  s = pki.server_settings();
  s.ciphers = "NO-SUCH-CIPHER";
  EXPECT_NE(make_tls_context(s).error().find("ciphers NO-SUCH-CIPHER"), std::string::npos);
  s = pki.server_settings();
  s.crlfile = "/nonexistent/crl.pem";
  EXPECT_FALSE(make_tls_context(s).ok());
  s = TlsSettings{};
  s.require_certificate = true;
  EXPECT_FALSE(make_tls_context(s).ok());  // no certificate and no PSK
  s = pki.server_settings();
  s.cafile.clear();
  s.require_certificate = true;
  EXPECT_NE(make_tls_context(s).error().find("require_certificate"), std::string::npos);
}

TEST(PskFileTest, ParsesIdentitiesAndKeys) {
  auto table = parse_psk_file("# comment\nsensor-1:00ff\r\n\nsensor-2:ABCDEF12\n");
  ASSERT_TRUE(table.ok()) << table.error();
  EXPECT_EQ(table->size(), 2u);
  PskLookup lookup = psk_lookup_from(*table);
  EXPECT_EQ(lookup("sensor-1"), "00ff");
  EXPECT_EQ(lookup("sensor-2"), "ABCDEF12");
  EXPECT_EQ(lookup("sensor-3"), std::nullopt);
}

TEST(PskFileTest, RefusesMalformedLinesNamingThem) {
  EXPECT_EQ(parse_psk_file("a:00\nb\n").error(), "line 2: expected identity:hexkey");
  EXPECT_FALSE(parse_psk_file(":00\n").ok());
  EXPECT_FALSE(parse_psk_file("a:0g\n").ok());
  EXPECT_FALSE(parse_psk_file("a:001\n").ok());
  EXPECT_FALSE(parse_psk_file("a:\n").ok());
  EXPECT_EQ(parse_psk_file("a:00\na:11\n").error(), "line 2: identity 'a' appears twice");
  EXPECT_FALSE(load_psk_file("/nonexistent/psk").ok());
}

}  // namespace
}  // namespace stellwerk::net::testing

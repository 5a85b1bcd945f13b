// The generator's TLS client against an in-process OpenSSL server on a
// socketpair: the handshake runs inside tls_read/tls_write on a non-blocking
// socket, the broker is verified against the CA file by IP address, a wrong
// name or missing CA fails, and close_notify reads as closed.
#include "bench/tls_client.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <string>
#include <thread>

namespace stellwerk::bench {
namespace {

// A self-signed certificate for 127.0.0.1 that serves as its own CA.
class TestCertificate {
 public:
  TestCertificate() : key_(EVP_EC_gen("P-256")), certificate_(X509_new()) {
    X509_set_version(certificate_, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(certificate_), 1);
    X509_gmtime_adj(X509_getm_notBefore(certificate_), -60);
    X509_gmtime_adj(X509_getm_notAfter(certificate_), 3600);
    X509_set_pubkey(certificate_, key_);
    X509_NAME* name = X509_get_subject_name(certificate_);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("bench test"),
                               -1, -1, 0);
    X509_set_issuer_name(certificate_, name);
    X509V3_CTX context;
    X509V3_set_ctx_nodb(&context);
    X509V3_set_ctx(&context, certificate_, certificate_, nullptr, nullptr, 0);
    X509_EXTENSION* names = X509V3_EXT_conf_nid(nullptr, &context, NID_subject_alt_name, "IP:127.0.0.1");
    X509_add_ext(certificate_, names, -1);
    X509_EXTENSION_free(names);
    X509_sign(certificate_, key_, EVP_sha256());
    path_ = ::testing::TempDir() + "bench_tls_ca_" + std::to_string(::getpid()) + ".pem";
    FILE* file = std::fopen(path_.c_str(), "w");
    PEM_write_X509(file, certificate_);
    std::fclose(file);
  }
  ~TestCertificate() {
    std::remove(path_.c_str());
    X509_free(certificate_);
    EVP_PKEY_free(key_);
  }
  const std::string& path() const { return path_; }
  EVP_PKEY* key() const { return key_; }
  X509* certificate() const { return certificate_; }

 private:
  EVP_PKEY* key_;
  X509* certificate_;
  std::string path_;
};

// Blocking on its end of the pair: handshake, read `expected` bytes, answer
// "pong", close_notify. Records whether the handshake succeeded.
class TestServer {
 public:
  TestServer(const TestCertificate& certificate, int fd) : context_(SSL_CTX_new(TLS_server_method())) {
    SSL_CTX_use_certificate(context_, certificate.certificate());
    SSL_CTX_use_PrivateKey(context_, certificate.key());
    thread_ = std::thread([this, fd] { serve(fd); });
  }
  ~TestServer() {
    if (thread_.joinable()) thread_.join();
    SSL_CTX_free(context_);
  }
  std::string wait_for_message() {
    thread_.join();
    return received_;
  }

 private:
  void serve(int fd) {
    SSL* session = SSL_new(context_);
    SSL_set_fd(session, fd);
    if (SSL_accept(session) == 1) {
      char buffer[4];
      if (SSL_read(session, buffer, sizeof buffer) == 4) received_.assign(buffer, 4);
      SSL_write(session, "pong", 4);
      SSL_shutdown(session);
    }
    SSL_free(session);
    ::shutdown(fd, SHUT_RDWR);
  }
  SSL_CTX* context_;
  std::string received_;
  std::thread thread_;
};

void wait_for(int fd, TlsStatus status) {
  pollfd entry{fd, static_cast<short>(status == TlsStatus::want_write ? POLLOUT : POLLIN), 0};
  ::poll(&entry, 1, 5000);
}

// Writes all of `text`, then reads until the session ends; returns what was read,
// or the status that stopped it when that was a failure.
Result<std::string, TlsStatus> exchange(ssl_st* session, int fd, const std::string& text) {
  size_t written = 0;
  while (written < text.size()) {
    const TlsIo io = tls_write(session, text.data() + written, text.size() - written);
    if (io.status == TlsStatus::done)
      written += io.bytes;
    else if (io.status == TlsStatus::want_read || io.status == TlsStatus::want_write)
      wait_for(fd, io.status);
    else
      return fail(io.status);
  }
  std::string read;
  uint8_t buffer[64];
  for (;;) {
    const TlsIo io = tls_read(session, buffer, sizeof buffer);
    if (io.status == TlsStatus::done)
      read.append(reinterpret_cast<char*>(buffer), io.bytes);
    else if (io.status == TlsStatus::want_read || io.status == TlsStatus::want_write)
      wait_for(fd, io.status);
    else if (io.status == TlsStatus::closed)
      return read;
    else
      return fail(io.status);
  }
}

// The client end is non-blocking, as in the generator.
struct SocketPair {
  SocketPair() {
    ::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds);
    ::fcntl(fds[0], F_SETFL, ::fcntl(fds[0], F_GETFL) | O_NONBLOCK);
  }
  ~SocketPair() {
    ::close(fds[0]);
    ::close(fds[1]);
  }
  int client() const { return fds[0]; }
  int server() const { return fds[1]; }
  int fds[2] = {-1, -1};
};

TEST(TlsClient, VerifiedExchangeRunsTheHandshakeInsideReadsAndWrites) {
  TestCertificate certificate;
  auto context = TlsClientContext::create(TlsSettings{certificate.path(), false, ""});
  ASSERT_TRUE(context) << context.error();
  SocketPair pair;
  TestServer server(certificate, pair.server());
  auto session = context.value()->open(pair.client(), "127.0.0.1");
  ASSERT_TRUE(session) << session.error();
  auto answer = exchange(session.value().get(), pair.client(), "ping");
  ASSERT_TRUE(answer);
  EXPECT_EQ(answer.value(), "pong");  // then close_notify read as closed
  EXPECT_EQ(server.wait_for_message(), "ping");
}

TEST(TlsClient, PinnedVersionIsNegotiated) {
  TestCertificate certificate;
  auto context = TlsClientContext::create(TlsSettings{certificate.path(), false, "1.2"});
  ASSERT_TRUE(context) << context.error();
  SocketPair pair;
  TestServer server(certificate, pair.server());
  auto session = context.value()->open(pair.client(), "127.0.0.1");
  ASSERT_TRUE(session) << session.error();
  ASSERT_TRUE(exchange(session.value().get(), pair.client(), "ping"));
  EXPECT_EQ(SSL_version(session.value().get()), TLS1_2_VERSION);
}

TEST(TlsClient, CertificateForAnotherAddressFailsVerification) {
  TestCertificate certificate;
  auto context = TlsClientContext::create(TlsSettings{certificate.path(), false, ""});
  ASSERT_TRUE(context) << context.error();
  SocketPair pair;
  TestServer server(certificate, pair.server());
  auto session = context.value()->open(pair.client(), "127.0.0.2");
  ASSERT_TRUE(session) << session.error();
  auto answer = exchange(session.value().get(), pair.client(), "ping");
  ASSERT_FALSE(answer);
  EXPECT_EQ(answer.error(), TlsStatus::failed);
  EXPECT_NE(tls_error_text(), "");
  EXPECT_EQ(server.wait_for_message(), "");
}

TEST(TlsClient, InsecureSkipsVerification) {
  TestCertificate certificate;
  auto context = TlsClientContext::create(TlsSettings{"", true, ""});
  ASSERT_TRUE(context) << context.error();
  SocketPair pair;
  TestServer server(certificate, pair.server());
  auto session = context.value()->open(pair.client(), "127.0.0.2");
  ASSERT_TRUE(session) << session.error();
  auto answer = exchange(session.value().get(), pair.client(), "ping");
  ASSERT_TRUE(answer);
  EXPECT_EQ(answer.value(), "pong");
}

TEST(TlsClient, MissingCaFileAndUnknownVersionAreRefused) {
  EXPECT_FALSE(TlsClientContext::create(TlsSettings{"/nonexistent/ca.pem", false, ""}));
  EXPECT_FALSE(TlsClientContext::create(TlsSettings{"", true, "1.1"}));
}

}  // namespace
}  // namespace stellwerk::bench

// OpenSSL 3 client side of the generator (see tls_client.h).
#include "bench/tls_client.h"

#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>

namespace stellwerk::bench {
namespace {

bool is_ip_address(const std::string& host) {
  in6_addr buffer{};
  return inet_pton(AF_INET, host.c_str(), &buffer) == 1 || inet_pton(AF_INET6, host.c_str(), &buffer) == 1;
}

Status<std::string> pin_version(SSL_CTX* context, const std::string& version) {
  int lowest = TLS1_2_VERSION, highest = 0;  // 0: the newest OpenSSL knows
  if (version == "1.2") {
    highest = TLS1_2_VERSION;
  } else if (version == "1.3") {
    lowest = highest = TLS1_3_VERSION;
  } else if (!version.empty()) {
    return fail("--tls-version must be 1.2 or 1.3, not " + version);
  }
  if (SSL_CTX_set_min_proto_version(context, lowest) != 1 ||
      SSL_CTX_set_max_proto_version(context, highest) != 1) {
    return fail("cannot set the TLS version: " + tls_error_text());
  }
  return {};
}

// Maps an SSL_read/SSL_write result that was not positive.
TlsIo classify(ssl_st* session, int result) {
  switch (SSL_get_error(session, result)) {
    case SSL_ERROR_WANT_READ:
      return {TlsStatus::want_read, 0};
    case SSL_ERROR_WANT_WRITE:
      return {TlsStatus::want_write, 0};
    case SSL_ERROR_ZERO_RETURN:
      return {TlsStatus::closed, 0};
    case SSL_ERROR_SYSCALL:
      // OpenSSL 3 reports an EOF without close_notify as SSL_ERROR_SSL; an
      // empty error queue with errno 0 is the same from older code paths.
      if (ERR_peek_error() == 0 && errno == 0) return {TlsStatus::closed, 0};
      return {TlsStatus::failed, 0};
    default:
      if (ERR_GET_REASON(ERR_peek_error()) == SSL_R_UNEXPECTED_EOF_WHILE_READING) {
        ERR_clear_error();
        return {TlsStatus::closed, 0};
      }
      return {TlsStatus::failed, 0};
  }
}

}  // namespace

void SslFree::operator()(ssl_st* session) const { SSL_free(session); }

Result<std::unique_ptr<TlsClientContext>, std::string> TlsClientContext::create(const TlsSettings& settings) {
  SSL_CTX* raw = SSL_CTX_new(TLS_client_method());
  if (raw == nullptr) return fail("SSL_CTX_new: " + tls_error_text());
  std::unique_ptr<TlsClientContext> context(new TlsClientContext(raw));
  if (auto pinned = pin_version(raw, settings.version); !pinned) return fail(pinned.error());
  // Output buffers grow (and move) between a blocked write and its retry.
  SSL_CTX_set_mode(raw, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  if (settings.insecure) {
    SSL_CTX_set_verify(raw, SSL_VERIFY_NONE, nullptr);
    return context;
  }
  if (SSL_CTX_load_verify_locations(raw, settings.cafile.c_str(), nullptr) != 1) {
    return fail("cannot load CA file " + settings.cafile + ": " + tls_error_text());
  }
  SSL_CTX_set_verify(raw, SSL_VERIFY_PEER, nullptr);
  context->verify_ = true;
  return context;
}

TlsClientContext::~TlsClientContext() { SSL_CTX_free(context_); }

Result<TlsSession, std::string> TlsClientContext::open(int fd, const std::string& host) const {
  TlsSession session(SSL_new(context_));
  if (!session || SSL_set_fd(session.get(), fd) != 1) return fail("SSL_new: " + tls_error_text());
  SSL_set_connect_state(session.get());
  const bool address = is_ip_address(host);
  if (!address) SSL_set_tlsext_host_name(session.get(), host.c_str());
  if (verify_) {
    X509_VERIFY_PARAM* param = SSL_get0_param(session.get());
    const int named = address ? X509_VERIFY_PARAM_set1_ip_asc(param, host.c_str())
                              : X509_VERIFY_PARAM_set1_host(param, host.c_str(), 0);
    if (named != 1) return fail("cannot set the name to verify: " + tls_error_text());
  }
  return session;
}

TlsIo tls_read(ssl_st* session, uint8_t* buffer, size_t size) {
  errno = 0;
  const int result = SSL_read(session, buffer, static_cast<int>(std::min<size_t>(size, INT_MAX)));
  if (result > 0) return {TlsStatus::done, static_cast<size_t>(result)};
  return classify(session, result);
}

TlsIo tls_write(ssl_st* session, const char* data, size_t size) {
  errno = 0;
  const int result = SSL_write(session, data, static_cast<int>(std::min<size_t>(size, INT_MAX)));
  if (result > 0) return {TlsStatus::done, static_cast<size_t>(result)};
  return classify(session, result);
}

std::string tls_error_text() {
  const unsigned long code = ERR_get_error();
  ERR_clear_error();
  if (code == 0) return errno != 0 ? std::string(std::strerror(errno)) : std::string("no details");
  char text[256];
  ERR_error_string_n(code, text, sizeof text);
  return text;
}

}  // namespace stellwerk::bench

// The generator's TLS: one OpenSSL client context per run, and one session
// per connection on its non-blocking socket.
//
// A session starts in client mode and is never driven through an explicit
// handshake call: the first tls_read or tls_write performs the handshake, and
// until it is done they report want_read / want_write like any other read or
// write that must wait for the socket. The runner therefore treats a TLS
// connection exactly like a plain one, with "read until want_read" instead of
// "read until a short read" (records may hide bytes from the socket).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "base/result.h"

struct ssl_st;
struct ssl_ctx_st;

namespace stellwerk::bench {

struct TlsSettings {
  std::string cafile;     // verify the broker against this CA (PEM)
  bool insecure = false;  // no verification at all
  std::string version;    // "1.2" or "1.3" pins the version; empty: 1.2 or later
};

struct SslFree {
  void operator()(ssl_st* session) const;
};
using TlsSession = std::unique_ptr<ssl_st, SslFree>;

enum class TlsStatus : uint8_t { done, want_read, want_write, closed, failed };

struct TlsIo {
  TlsStatus status = TlsStatus::done;
  size_t bytes = 0;  // with done: how many bytes were read or written
};

class TlsClientContext {
 public:
  // Fails when the CA file cannot be loaded or the version is unknown.
  static Result<std::unique_ptr<TlsClientContext>, std::string> create(const TlsSettings& settings);
  ~TlsClientContext();
  TlsClientContext(const TlsClientContext&) = delete;
  TlsClientContext& operator=(const TlsClientContext&) = delete;

  // A client session on the connected socket `fd`; when verifying, the
  // broker's certificate must name `host` (a DNS name or an IP address).
  Result<TlsSession, std::string> open(int fd, const std::string& host) const;

 private:
  explicit TlsClientContext(ssl_ctx_st* context) : context_(context) {}
  ssl_ctx_st* context_;
  bool verify_ = false;
};

// Reads decrypted bytes into `buffer`: done with bytes > 0, want_read when
// the socket is empty, closed at the broker's close_notify or EOF.
TlsIo tls_read(ssl_st* session, uint8_t* buffer, size_t size);

// Writes at most one record's worth of `data`: done with the bytes taken.
// A retry after want_read/want_write must start at the same byte; the
// buffer may move and grow in between.
TlsIo tls_write(ssl_st* session, const char* data, size_t size);

// What OpenSSL last reported (and clears its error queue).
std::string tls_error_text();

}  // namespace stellwerk::bench

// TLS server configuration: mosquitto's listener keys turned into an OpenSSL
// SSL_CTX, shared by every connection of a listener.
//
// A context is immutable once made and reference counted: a reload makes a
// new one (make_tls_context again, then Worker::set_listener_stack), new
// connections take the new one and open connections keep theirs until they
// end. OpenSSL allows SSL objects to be made from one SSL_CTX on several
// threads at once, so every worker shares it.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "base/result.h"

struct ssl_ctx_st;  // OpenSSL's SSL_CTX, kept out of this header
struct ssl_st;      // SSL

namespace stellwerk::net {

// identity -> key as hex digits, or nothing for an unknown identity. Called
// on worker threads during handshakes, so it must be thread-safe and fast
// (look up a table loaded beforehand, such as load_psk_file's).
using PskLookup = std::function<std::optional<std::string>(std::string_view identity)>;

struct TlsSettings {
  std::string cafile;    // PEM CA certificates that client certificates must chain to
  std::string capath;    // a directory of hashed CA certificates (c_rehash)
  std::string certfile;  // the server's PEM certificate chain
  std::string keyfile;   // its PEM private key (unencrypted)
  // "tlsv1.2" or "tlsv1.3" for exactly that version; "" for 1.2 and 1.3.
  std::string tls_version;
  std::string ciphers;        // OpenSSL cipher list for TLS 1.2 ("" = OpenSSL's default)
  std::string ciphers_tls13;  // TLS 1.3 ciphersuites ("" = OpenSSL's default)
  // Clients must present a certificate that verifies against cafile/capath;
  // without it no certificate is asked for (mosquitto's behaviour).
  bool require_certificate = false;
  std::string crlfile;  // PEM CRL checked against the client's certificate
  // TLS-PSK: with psk_lookup set, PSK handshakes are accepted and psk_hint is
  // sent to clients (TLS 1.2). Without certfile the listener is PSK-only.
  std::string psk_hint;
  PskLookup psk_lookup;
};

class TlsContext {
 public:
  // Takes ownership of `ctx` (one reference).
  TlsContext(ssl_ctx_st* ctx, PskLookup psk_lookup);
  ~TlsContext();
  TlsContext(const TlsContext&) = delete;
  TlsContext& operator=(const TlsContext&) = delete;

  // A new server-side SSL object, or null when OpenSSL is out of memory.
  // Its app data may point to a std::string, where the PSK callback then
  // stores the identity it accepted.
  ssl_st* new_session() const;
  // For the PSK callback, which OpenSSL calls with only the SSL at hand.
  const PskLookup& psk_lookup() const { return psk_lookup_; }

 private:
  ssl_ctx_st* ctx_;
  PskLookup psk_lookup_;
};

// The error names the setting and file at fault with OpenSSL's reason:
// "certfile /etc/x.pem: No such file or directory".
Result<std::shared_ptr<const TlsContext>, std::string> make_tls_context(const TlsSettings& settings);

// mosquitto's psk_file: one `identity:hexkey` per line; blank lines and lines
// starting with '#' are skipped. The error names the line.
using PskTable = std::map<std::string, std::string, std::less<>>;
Result<PskTable, std::string> parse_psk_file(std::string_view text);
Result<PskTable, std::string> load_psk_file(const std::string& path);
// A thread-safe lookup over a table (copied in).
PskLookup psk_lookup_from(PskTable table);

}  // namespace stellwerk::net

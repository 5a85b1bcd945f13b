// Building the TLS server context from TlsSettings, and psk_file parsing.
#include "net/tls_context.h"

#include <fmt/format.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <cstring>
#include <fstream>
#include <sstream>

#include "net/tls_util.h"

namespace stellwerk::net {
namespace {

using ContextStatus = Status<std::string>;

struct CtxFree {
  void operator()(SSL_CTX* ctx) const { SSL_CTX_free(ctx); }
};
using CtxPtr = std::unique_ptr<SSL_CTX, CtxFree>;

ContextStatus problem(std::string_view setting, std::string_view value) {
  return fail(fmt::format("{} {}: {}", setting, value, take_openssl_error()));
}

ContextStatus set_versions(SSL_CTX* ctx, const std::string& version) {
  // As in mosquitto 2, tls_version is the lowest version accepted; newer
  // ones are always allowed. TLS 1.1 and older are not offered at all.
  int minimum = TLS1_2_VERSION;
  const int maximum = 0;  // 0: the highest OpenSSL knows
  if (version == "tlsv1.3") {
    minimum = TLS1_3_VERSION;
  } else if (!version.empty() && version != "tlsv1.2") {
    return fail(fmt::format("tls_version {}: expected tlsv1.2, tlsv1.3 or nothing", version));
  }
  if (SSL_CTX_set_min_proto_version(ctx, minimum) != 1 || SSL_CTX_set_max_proto_version(ctx, maximum) != 1) {
    return problem("tls_version", version);
  }
  return {};
}

ContextStatus set_ciphers(SSL_CTX* ctx, const TlsSettings& s) {
  if (!s.ciphers.empty() && SSL_CTX_set_cipher_list(ctx, s.ciphers.c_str()) != 1) {
    return problem("ciphers", s.ciphers);
  }
  if (!s.ciphers_tls13.empty() && SSL_CTX_set_ciphersuites(ctx, s.ciphers_tls13.c_str()) != 1) {
    return problem("ciphers_tls13", s.ciphers_tls13);
  }
  return {};
}

ContextStatus set_identity(SSL_CTX* ctx, const TlsSettings& s) {
  if (s.certfile.empty() != s.keyfile.empty()) return fail(std::string("certfile and keyfile go together"));
  if (s.certfile.empty()) {
    if (s.psk_lookup) return {};  // a PSK-only listener
    return fail(std::string("a TLS listener needs certfile and keyfile, or a PSK lookup"));
  }
  if (SSL_CTX_use_certificate_chain_file(ctx, s.certfile.c_str()) != 1)
    return problem("certfile", s.certfile);
  if (SSL_CTX_use_PrivateKey_file(ctx, s.keyfile.c_str(), SSL_FILETYPE_PEM) != 1) {
    return problem("keyfile", s.keyfile);
  }
  if (SSL_CTX_check_private_key(ctx) != 1)
    return problem("keyfile", s.keyfile + " (does not match certfile)");
  return {};
}

ContextStatus set_client_verification(SSL_CTX* ctx, const TlsSettings& s) {
  bool have_ca = !s.cafile.empty() || !s.capath.empty();
  if (have_ca) {
    const char* file = s.cafile.empty() ? nullptr : s.cafile.c_str();
    const char* path = s.capath.empty() ? nullptr : s.capath.c_str();
    if (SSL_CTX_load_verify_locations(ctx, file, path) != 1) {
      return problem(file ? "cafile" : "capath", file ? s.cafile : s.capath);
    }
  }
  // Tells clients which CAs we accept, so one with several certificates can choose.
  if (!s.cafile.empty()) SSL_CTX_set_client_CA_list(ctx, SSL_load_client_CA_file(s.cafile.c_str()));
  if (s.require_certificate) {
    if (!have_ca) return fail(std::string("require_certificate needs cafile or capath"));
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
  }
  if (s.crlfile.empty()) return {};
  X509_STORE* store = SSL_CTX_get_cert_store(ctx);
  X509_LOOKUP* lookup = X509_STORE_add_lookup(store, X509_LOOKUP_file());
  if (lookup == nullptr || X509_load_crl_file(lookup, s.crlfile.c_str(), X509_FILETYPE_PEM) <= 0) {
    return problem("crlfile", s.crlfile);
  }
  X509_STORE_set_flags(store, X509_V_FLAG_CRL_CHECK);
  return {};
}

// OpenSSL asks for the key of `identity`; returns its length, 0 to refuse.
unsigned int find_psk(SSL* ssl, const char* identity, unsigned char* psk, unsigned int max_psk_len) {
  const auto* context = static_cast<const TlsContext*>(SSL_CTX_get_app_data(SSL_get_SSL_CTX(ssl)));
  if (context == nullptr || identity == nullptr || !context->psk_lookup()) return 0;
  std::optional<std::string> hex = context->psk_lookup()(identity);
  if (!hex) return 0;
  std::optional<std::string> key = decode_hex(*hex);
  if (!key || key->empty() || key->size() > max_psk_len) return 0;
  std::memcpy(psk, key->data(), key->size());
  // SSL_get_psk_identity() knows the identity after a TLS 1.2 handshake only,
  // so it is also left where the transport can find it.
  if (auto* accepted_identity = static_cast<std::string*>(SSL_get_app_data(ssl)))
    *accepted_identity = identity;
  return static_cast<unsigned int>(key->size());
}

ContextStatus set_psk(SSL_CTX* ctx, const TlsSettings& s) {
  if (!s.psk_lookup) return {};
  // Also serves TLS 1.3 PSK handshakes (with a SHA-256 suite), as OpenSSL
  // falls back to this callback when no TLS 1.3 session callback is set.
  SSL_CTX_set_psk_server_callback(ctx, find_psk);
  if (!s.psk_hint.empty() && SSL_CTX_use_psk_identity_hint(ctx, s.psk_hint.c_str()) != 1) {
    return problem("psk_hint", s.psk_hint);
  }
  return {};
}

ContextStatus configure(SSL_CTX* ctx, const TlsSettings& s) {
  // Renegotiation only gives a client a way to make us work hard.
  SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION);
  // Idle connections give their record buffers back.
  SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
  // Resumed sessions need an id context when client certificates are verified.
  static constexpr unsigned char kSessionContext[] = "stellwerk";
  SSL_CTX_set_session_id_context(ctx, kSessionContext, sizeof kSessionContext - 1);
  ContextStatus status = set_versions(ctx, s.tls_version);
  if (status.ok()) status = set_ciphers(ctx, s);
  if (status.ok()) status = set_identity(ctx, s);
  if (status.ok()) status = set_client_verification(ctx, s);
  if (status.ok()) status = set_psk(ctx, s);
  return status;
}

}  // namespace

TlsContext::TlsContext(SSL_CTX* ctx, PskLookup psk_lookup) : ctx_(ctx), psk_lookup_(std::move(psk_lookup)) {
  SSL_CTX_set_app_data(ctx_, this);
}

TlsContext::~TlsContext() { SSL_CTX_free(ctx_); }

SSL* TlsContext::new_session() const { return SSL_new(ctx_); }

Result<std::shared_ptr<const TlsContext>, std::string> make_tls_context(const TlsSettings& settings) {
  ERR_clear_error();
  CtxPtr ctx(SSL_CTX_new(TLS_server_method()));
  if (!ctx) return fail("cannot create a TLS context: " + take_openssl_error());
  ContextStatus configured = configure(ctx.get(), settings);
  ERR_clear_error();
  if (!configured.ok()) return fail(configured.error());
  return std::shared_ptr<const TlsContext>(std::make_shared<TlsContext>(ctx.release(), settings.psk_lookup));
}

Result<PskTable, std::string> parse_psk_file(std::string_view text) {
  PskTable table;
  size_t line_number = 0;
  while (!text.empty()) {
    size_t end = text.find('\n');
    std::string_view line = text.substr(0, end);
    text = end == std::string_view::npos ? std::string_view() : text.substr(end + 1);
    ++line_number;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty() || line.front() == '#') continue;
    size_t colon = line.find(':');
    std::string_view identity = line.substr(0, colon);
    std::string_view key = colon == std::string_view::npos ? std::string_view() : line.substr(colon + 1);
    if (identity.empty() || !decode_hex(key) || key.empty()) {
      return fail(fmt::format("line {}: expected identity:hexkey", line_number));
    }
    if (!table.emplace(identity, key).second) {
      return fail(fmt::format("line {}: identity '{}' appears twice", line_number, identity));
    }
  }
  return table;
}

Result<PskTable, std::string> load_psk_file(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) return fail(fmt::format("psk_file {}: {}", path, std::strerror(errno)));
  std::stringstream contents;
  contents << file.rdbuf();
  auto table = parse_psk_file(contents.str());
  if (!table.ok()) return fail(fmt::format("psk_file {}: {}", path, table.error()));
  return table;
}

PskLookup psk_lookup_from(PskTable table) {
  auto shared = std::make_shared<const PskTable>(std::move(table));
  return [shared](std::string_view identity) -> std::optional<std::string> {
    auto it = shared->find(identity);
    if (it == shared->end()) return std::nullopt;
    return it->second;
  };
}

}  // namespace stellwerk::net

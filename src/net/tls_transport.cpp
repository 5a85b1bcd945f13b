// TLS server transport over memory BIOs: see tls_transport.h.
//
// Every entry point first clears this thread's OpenSSL error queue, because
// SSL_get_error() consults it and a stale entry left by another connection on
// the same worker would be taken for this one's failure.
#include "net/tls_transport.h"

#include <fmt/format.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "net/tls_context.h"
#include "net/tls_util.h"

namespace stellwerk::net {
namespace {

// RFC 2253 text, the form mosquitto's use_subject_as_username produces.
std::string subject_text(X509_NAME* name) {
  BIO* out = BIO_new(BIO_s_mem());
  if (out == nullptr) return {};
  X509_NAME_print_ex(out, name, 0, XN_FLAG_RFC2253);
  char* data = nullptr;
  long length = BIO_get_mem_data(out, &data);
  std::string text(data != nullptr && length > 0 ? std::string(data, static_cast<size_t>(length)) : "");
  BIO_free(out);
  return text;
}

std::string common_name(X509_NAME* name) {
  int index = X509_NAME_get_index_by_NID(name, NID_commonName, -1);
  if (index < 0) return {};
  ASN1_STRING* data = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, index));
  unsigned char* utf8 = nullptr;
  int length = ASN1_STRING_to_UTF8(&utf8, data);
  if (length < 0) return {};
  std::string text(reinterpret_cast<char*>(utf8), static_cast<size_t>(length));
  OPENSSL_free(utf8);
  return text;
}

}  // namespace

TlsServerTransport::TlsServerTransport(std::shared_ptr<const TlsContext> context)
    : context_(std::move(context)) {
  if (!context_) return;
  ssl_ = context_->new_session();
  network_in_ = BIO_new(BIO_s_mem());
  network_out_ = BIO_new(BIO_s_mem());
  if (ssl_ == nullptr || network_in_ == nullptr || network_out_ == nullptr) {
    BIO_free(network_in_);
    BIO_free(network_out_);
    SSL_free(ssl_);
    ssl_ = nullptr;
    return;
  }
  // An empty memory BIO must read as "try again", not as end of stream.
  BIO_set_mem_eof_return(network_in_, -1);
  BIO_set_mem_eof_return(network_out_, -1);
  SSL_set_bio(ssl_, network_in_, network_out_);
  SSL_set_app_data(ssl_, &psk_identity_);
  SSL_set_accept_state(ssl_);
}

TlsServerTransport::~TlsServerTransport() { SSL_free(ssl_); }

TransportStatus TlsServerTransport::on_input(std::span<const uint8_t> in, std::string& up,
                                             std::string& down) {
  if (ssl_ == nullptr) return fail(TransportEnd{"TLS session could not be created"});
  if (said_goodbye_) return {};  // closing: the rest is read and dropped
  ERR_clear_error();
  if (BIO_write(network_in_, in.data(), static_cast<int>(in.size())) != static_cast<int>(in.size())) {
    return fail(TransportEnd{"TLS input buffer: " + take_openssl_error()});
  }
  TransportStatus status;
  if (!established_) status = continue_handshake(down);
  if (status.ok() && established_) status = read_records(up);
  drain_output(down);  // handshake records, alerts, session tickets, key updates
  return status;
}

TransportStatus TlsServerTransport::continue_handshake(std::string& down) {
  int result = SSL_do_handshake(ssl_);
  if (result == 1) {
    established_ = true;
    note_peer();
    return {};
  }
  if (SSL_get_error(ssl_, result) == SSL_ERROR_WANT_READ) return {};
  drain_output(down);  // the alert that tells the client why
  return failed("handshake", result);
}

TransportStatus TlsServerTransport::read_records(std::string& up) {
  char buffer[16 * 1024];  // one full TLS record
  for (;;) {
    size_t got = 0;
    int result = SSL_read_ex(ssl_, buffer, sizeof buffer, &got);
    if (result == 1) {
      up.append(buffer, got);
      continue;
    }
    switch (SSL_get_error(ssl_, result)) {
      case SSL_ERROR_WANT_READ:
        return {};
      case SSL_ERROR_ZERO_RETURN:
        return fail(TransportEnd{"TLS close_notify from the peer", false});
      default:
        return failed("read", result);
    }
  }
}

TransportStatus TlsServerTransport::failed(std::string_view stage, int ssl_result) {
  int error = SSL_get_error(ssl_, ssl_result);  // before the queue is emptied
  std::string reason = error == SSL_ERROR_SSL ? take_openssl_error() : fmt::format("SSL error {}", error);
  long verify = SSL_get_verify_result(ssl_);
  if (verify != X509_V_OK) reason += fmt::format(" ({})", X509_verify_cert_error_string(verify));
  ERR_clear_error();
  return fail(TransportEnd{fmt::format("TLS {} failed: {}", stage, reason)});
}

void TlsServerTransport::wrap(std::string_view plain, std::string& down) {
  if (!established_ || said_goodbye_) return;
  ERR_clear_error();
  while (!plain.empty()) {
    size_t written = 0;
    // A memory BIO takes everything, so this fails only after a fatal error,
    // when the read side has already ended the connection.
    if (SSL_write_ex(ssl_, plain.data(), plain.size(), &written) != 1) break;
    plain.remove_prefix(written);
  }
  ERR_clear_error();
  drain_output(down);
}

void TlsServerTransport::goodbye(std::string& down) {
  if (said_goodbye_ || !established_) return;
  said_goodbye_ = true;
  ERR_clear_error();
  SSL_shutdown(ssl_);  // queues close_notify; the peer's answer is not awaited
  ERR_clear_error();
  drain_output(down);
}

void TlsServerTransport::drain_output(std::string& down) {
  size_t pending = BIO_ctrl_pending(network_out_);
  if (pending == 0) return;
  size_t old_size = down.size();
  down.resize(old_size + pending);
  int got = BIO_read(network_out_, down.data() + old_size, static_cast<int>(pending));
  down.resize(old_size + static_cast<size_t>(std::max(got, 0)));
}

void TlsServerTransport::note_peer() {
  peer_.tls = true;
  peer_.tls_version = SSL_get_version(ssl_);
  peer_.tls_cipher = SSL_get_cipher_name(ssl_);
  peer_.psk_identity = psk_identity_;
  // A certificate is only asked for when it must verify (require_certificate),
  // so one that is present here has passed; the check below is a safety net.
  X509* certificate = SSL_get0_peer_certificate(ssl_);
  if (certificate == nullptr || SSL_get_verify_result(ssl_) != X509_V_OK) return;
  X509_NAME* subject = X509_get_subject_name(certificate);
  peer_.certificate_subject = subject_text(subject);
  peer_.certificate_common_name = common_name(subject);
}

void TlsServerTransport::describe(PeerInfo& info) const {
  if (!established_) return;
  info.tls = true;
  info.tls_version = peer_.tls_version;
  info.tls_cipher = peer_.tls_cipher;
  info.certificate_subject = peer_.certificate_subject;
  info.certificate_common_name = peer_.certificate_common_name;
  info.psk_identity = peer_.psk_identity;
}

}  // namespace stellwerk::net

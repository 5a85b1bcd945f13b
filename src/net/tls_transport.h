// The server side of TLS as a transport: OpenSSL through a pair of memory
// BIOs, so the worker's loop does all socket I/O and a handshake is only ever
// a few calls on bytes that have already arrived. No call blocks, and a slow
// or broken handshake delays nobody else on the worker.
#pragma once

#include <memory>
#include <string>

#include "net/transport.h"

struct ssl_st;
struct bio_st;

namespace stellwerk::net {

class TlsServerTransport final : public Transport {
 public:
  // A null context, or OpenSSL out of memory, gives a transport that refuses
  // its first input.
  explicit TlsServerTransport(std::shared_ptr<const TlsContext> context);
  ~TlsServerTransport() override;
  TlsServerTransport(const TlsServerTransport&) = delete;
  TlsServerTransport& operator=(const TlsServerTransport&) = delete;

  TransportStatus on_input(std::span<const uint8_t> in, std::string& up, std::string& down) override;
  bool established() const override { return established_; }
  void wrap(std::string_view plain, std::string& down) override;
  void goodbye(std::string& down) override;
  void describe(PeerInfo& info) const override;

 private:
  TransportStatus continue_handshake(std::string& down);
  TransportStatus read_records(std::string& up);
  TransportStatus failed(std::string_view stage, int ssl_result);
  void drain_output(std::string& down);
  void note_peer();

  std::shared_ptr<const TlsContext> context_;  // keeps the SSL_CTX of a reloaded listener alive
  ssl_st* ssl_ = nullptr;
  bio_st* network_in_ = nullptr;   // owned by ssl_; bytes from the peer go in here
  bio_st* network_out_ = nullptr;  // owned by ssl_; records for the peer come out here
  bool established_ = false;
  bool said_goodbye_ = false;
  std::string psk_identity_;  // set by the context's PSK callback
  PeerInfo peer_;             // the TLS fields only
};

}  // namespace stellwerk::net

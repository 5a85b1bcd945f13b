// PROXY protocol (HAProxy's, versions 1 and 2) as the lowest transport: a
// load balancer in front of the broker sends one header naming the real
// client before the client's own bytes, and this layer reads it, reports the
// address through PeerInfo and then steps aside (transparent()).
//
// A LOCAL command (v2: the balancer's own health check), an UNKNOWN (v1) or a
// non-IP family (v2) keeps the socket's address. Anything malformed, or a
// header in the wrong version for the listener, ends the connection: a
// listener configured for PROXY never treats a client's bytes as a header.
// v2 TLVs are skipped.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "net/transport.h"

namespace stellwerk::net {

class ProxyProtocolTransport final : public Transport {
 public:
  // A v1 line is at most 107 bytes including CRLF (the specification's bound).
  static constexpr size_t kMaxV1Line = 107;
  static constexpr size_t kV2FixedBytes = 16;

  explicit ProxyProtocolTransport(ProxyProtocol accepted);

  TransportStatus on_input(std::span<const uint8_t> in, std::string& up, std::string& down) override;
  bool established() const override { return done_; }
  bool transparent() const override { return done_; }
  void wrap(std::string_view plain, std::string& down) override { down.append(plain); }
  void goodbye(std::string& /*down*/) override {}
  void describe(PeerInfo& info) const override;

 private:
  enum class Progress { need_more, done, malformed };
  Progress parse_buffered();
  Progress parse_v1();
  Progress parse_v2();
  Progress read_v2_addresses(uint8_t family, std::string_view body);
  Progress refuse(std::string why);

  ProxyProtocol accepted_;
  std::string header_;     // bytes so far, until the header is complete
  size_t header_end_ = 0;  // its length, once known
  bool done_ = false;
  std::string peer_;     // "" keeps the socket's address
  std::string problem_;  // why a header was refused
};

}  // namespace stellwerk::net

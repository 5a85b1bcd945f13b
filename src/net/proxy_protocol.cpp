// PROXY protocol header parsing: see proxy_protocol.h. The header is
// buffered until complete (at most 107 bytes for v1, 16 + 65535 for v2, and
// only as many as actually arrived), then parsed in one go.
#include "net/proxy_protocol.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <algorithm>
#include <charconv>
#include <cstring>
#include <vector>

#include "net/address.h"

namespace stellwerk::net {
namespace {

constexpr std::string_view kV1Prefix = "PROXY ";
constexpr std::string_view kV2Signature{"\r\n\r\n\0\r\nQUIT\n", 12};

// Whether the bytes so far could still begin with `prefix`.
bool could_start_with(std::string_view bytes, std::string_view prefix) {
  size_t n = std::min(bytes.size(), prefix.size());
  return bytes.substr(0, n) == prefix.substr(0, n);
}

std::vector<std::string_view> split_on_spaces(std::string_view line) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  while (start <= line.size()) {
    size_t space = line.find(' ', start);
    if (space == std::string_view::npos) space = line.size();
    parts.push_back(line.substr(start, space - start));
    start = space + 1;
  }
  return parts;
}

bool parse_port(std::string_view text, uint16_t& port) {
  if (text.empty() || text.size() > 5) return false;
  unsigned value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size() || value > 65535) return false;
  port = static_cast<uint16_t>(value);
  return true;
}

uint16_t read_be16(const char* p) {
  return static_cast<uint16_t>((static_cast<uint8_t>(p[0]) << 8) | static_cast<uint8_t>(p[1]));
}

std::string endpoint_v4(const void* address, uint16_t port_network_order) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  std::memcpy(&a.sin_addr, address, sizeof a.sin_addr);
  a.sin_port = port_network_order;
  return format_endpoint(reinterpret_cast<const sockaddr*>(&a));
}

std::string endpoint_v6(const void* address, uint16_t port_network_order) {
  sockaddr_in6 a{};
  a.sin6_family = AF_INET6;
  std::memcpy(&a.sin6_addr, address, sizeof a.sin6_addr);
  a.sin6_port = port_network_order;
  return format_endpoint(reinterpret_cast<const sockaddr*>(&a));
}

}  // namespace

ProxyProtocolTransport::ProxyProtocolTransport(ProxyProtocol accepted) : accepted_(accepted) {}

TransportStatus ProxyProtocolTransport::on_input(std::span<const uint8_t> in, std::string& up,
                                                 std::string& /*down*/) {
  if (done_) {
    up.append(reinterpret_cast<const char*>(in.data()), in.size());
    return {};
  }
  header_.append(reinterpret_cast<const char*>(in.data()), in.size());
  switch (parse_buffered()) {
    case Progress::need_more:
      return {};
    case Progress::malformed:
      return fail(TransportEnd{"PROXY header refused: " + problem_});
    case Progress::done:
      break;
  }
  done_ = true;
  up.append(header_, header_end_);
  std::string().swap(header_);
  return {};
}

ProxyProtocolTransport::Progress ProxyProtocolTransport::parse_buffered() {
  std::string_view bytes = header_;
  bool v1_allowed = accepted_ == ProxyProtocol::v1 || accepted_ == ProxyProtocol::any;
  bool v2_allowed = accepted_ == ProxyProtocol::v2 || accepted_ == ProxyProtocol::any;
  if (v1_allowed && could_start_with(bytes, kV1Prefix)) {
    return bytes.size() < kV1Prefix.size() ? Progress::need_more : parse_v1();
  }
  if (v2_allowed && could_start_with(bytes, kV2Signature)) {
    return bytes.size() < kV2FixedBytes ? Progress::need_more : parse_v2();
  }
  if (v1_allowed && v2_allowed) return refuse("no PROXY header");
  return refuse(v1_allowed ? "no PROXY v1 header" : "no PROXY v2 header");
}

ProxyProtocolTransport::Progress ProxyProtocolTransport::parse_v1() {
  std::string_view bytes = header_;
  size_t crlf = bytes.substr(0, kMaxV1Line).find("\r\n");
  if (crlf == std::string_view::npos) {
    return bytes.size() < kMaxV1Line ? Progress::need_more : refuse("v1 line longer than 107 bytes");
  }
  header_end_ = crlf + 2;
  std::vector<std::string_view> parts = split_on_spaces(bytes.substr(0, crlf));
  if (parts.size() >= 2 && parts[1] == "UNKNOWN") return Progress::done;  // the rest is to be ignored
  bool v4 = parts.size() == 6 && parts[1] == "TCP4";
  bool v6 = parts.size() == 6 && parts[1] == "TCP6";
  if (!v4 && !v6) return refuse("v1 line is not 'PROXY TCP4|TCP6 src dst sport dport'");
  int family = v4 ? AF_INET : AF_INET6;
  unsigned char source[sizeof(in6_addr)], destination[sizeof(in6_addr)];
  uint16_t source_port = 0, destination_port = 0;
  bool ok = ::inet_pton(family, std::string(parts[2]).c_str(), source) == 1 &&
            ::inet_pton(family, std::string(parts[3]).c_str(), destination) == 1 &&
            parse_port(parts[4], source_port) && parse_port(parts[5], destination_port);
  if (!ok) return refuse("v1 addresses or ports malformed");
  peer_ = v4 ? endpoint_v4(source, htons(source_port)) : endpoint_v6(source, htons(source_port));
  return Progress::done;
}

ProxyProtocolTransport::Progress ProxyProtocolTransport::parse_v2() {
  auto version_command = static_cast<uint8_t>(header_[12]);
  auto family = static_cast<uint8_t>(static_cast<uint8_t>(header_[13]) >> 4);
  size_t length = read_be16(header_.data() + 14);
  if ((version_command >> 4) != 2 || (version_command & 0x0F) > 1)
    return refuse("v2 version or command unknown");
  header_end_ = kV2FixedBytes + length;
  if (header_.size() < header_end_) return Progress::need_more;
  bool local = (version_command & 0x0F) == 0;  // the balancer speaking for itself
  if (local) return Progress::done;
  return read_v2_addresses(family, std::string_view(header_).substr(kV2FixedBytes, length));
}

ProxyProtocolTransport::Progress ProxyProtocolTransport::read_v2_addresses(uint8_t family,
                                                                           std::string_view body) {
  constexpr uint8_t kInet = 1, kInet6 = 2;
  // Source address, destination address, source port, destination port.
  constexpr size_t kInetBytes = 4 + 4 + 2 + 2, kInet6Bytes = 16 + 16 + 2 + 2;
  uint16_t port = 0;
  if (family == kInet) {
    if (body.size() < kInetBytes) return refuse("v2 IPv4 block too short");
    std::memcpy(&port, body.data() + 8, sizeof port);
    peer_ = endpoint_v4(body.data(), port);
  } else if (family == kInet6) {
    if (body.size() < kInet6Bytes) return refuse("v2 IPv6 block too short");
    std::memcpy(&port, body.data() + 32, sizeof port);
    peer_ = endpoint_v6(body.data(), port);
  }
  return Progress::done;  // UNSPEC and UNIX keep the socket's address
}

ProxyProtocolTransport::Progress ProxyProtocolTransport::refuse(std::string why) {
  problem_ = std::move(why);
  return Progress::malformed;
}

void ProxyProtocolTransport::describe(PeerInfo& info) const {
  if (peer_.empty()) return;
  info.address.text = peer_;
  info.via_proxy = true;
}

}  // namespace stellwerk::net

// WebSocket upgrade request parsing and answering: see websocket_handshake.h.
//
// Header names are compared case-insensitively and repeated headers are
// joined with commas, as HTTP allows. Only what RFC 6455 requires of a
// server is checked: GET, HTTP/1.1, Host, Upgrade: websocket, Connection:
// upgrade, Sec-WebSocket-Version: 13 and a 16-byte Sec-WebSocket-Key.
#include "net/websocket_handshake.h"

#include <fmt/format.h>
#include <openssl/evp.h>
#include <openssl/sha.h>

#include <algorithm>
#include <map>
#include <optional>
#include <vector>

namespace stellwerk::net {
namespace {

using Headers = std::map<std::string, std::string>;

constexpr std::string_view kWebSocketGuid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

char lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

bool equals_ignoring_case(std::string_view a, std::string_view b) {
  return a.size() == b.size() &&
         std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) { return lower(x) == lower(y); });
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::vector<std::string_view> comma_list(std::string_view value) {
  std::vector<std::string_view> items;
  while (!value.empty()) {
    size_t comma = value.find(',');
    std::string_view item = trim(value.substr(0, comma));
    if (!item.empty()) items.push_back(item);
    value = comma == std::string_view::npos ? std::string_view() : value.substr(comma + 1);
  }
  return items;
}

bool list_has_token(std::string_view value, std::string_view token) {
  auto items = comma_list(value);
  return std::any_of(items.begin(), items.end(),
                     [&](std::string_view t) { return equals_ignoring_case(t, token); });
}

// Splits header lines into `headers`; false on a line without a colon or a
// folded (obsolete) continuation line.
bool parse_headers(std::string_view lines, Headers& headers) {
  while (!lines.empty()) {
    size_t end = lines.find("\r\n");
    std::string_view line = lines.substr(0, end);
    lines = end == std::string_view::npos ? std::string_view() : lines.substr(end + 2);
    size_t colon = line.find(':');
    if (colon == 0 || colon == std::string_view::npos || line.front() == ' ' || line.front() == '\t')
      return false;
    std::string name(line.substr(0, colon));
    std::transform(name.begin(), name.end(), name.begin(), lower);
    std::string& value = headers[name];
    if (!value.empty()) value += ',';
    value += trim(line.substr(colon + 1));
  }
  return true;
}

bool is_websocket_key(std::string_view key) {
  // 16 random bytes in base64: 22 significant characters and "==".
  if (key.size() != 24 || key.substr(22) != "==") return false;
  return std::all_of(key.begin(), key.begin() + 22, [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '/';
  });
}

UpgradeAnswer refuse(std::string_view status, std::string problem, std::string_view extra_headers = "") {
  UpgradeAnswer answer;
  answer.response =
      fmt::format("HTTP/1.1 {}\r\nConnection: close\r\n{}Content-Length: 0\r\n\r\n", status, extra_headers);
  answer.problem = std::move(problem);
  return answer;
}

// Of the subprotocols the client offers, the one we list first: "mqtt"
// whenever offered ([MQTT-6.0.0-4]), "mqttv3.1" for old clients offering only
// that. "" when the client offers none; nullopt when it offers only others.
std::optional<std::string> choose_subprotocol(const Headers& headers, const WebSocketSettings& settings) {
  auto offered = headers.find("sec-websocket-protocol");
  if (offered == headers.end()) return std::string();
  std::vector<std::string_view> candidates = comma_list(offered->second);
  for (const std::string& ours : settings.subprotocols) {
    for (std::string_view candidate : candidates) {
      if (equals_ignoring_case(candidate, ours)) return std::string(candidate);
    }
  }
  return std::nullopt;
}

UpgradeAnswer check_headers(const Headers& headers, const WebSocketSettings& settings) {
  auto value = [&](const char* name) -> std::string_view {
    auto it = headers.find(name);
    return it == headers.end() ? std::string_view() : std::string_view(it->second);
  };
  if (value("host").empty()) return refuse("400 Bad Request", "no Host header");
  if (!list_has_token(value("upgrade"), "websocket"))
    return refuse("400 Bad Request", "not an upgrade to websocket");
  if (!list_has_token(value("connection"), "upgrade"))
    return refuse("400 Bad Request", "Connection lacks upgrade");
  if (trim(value("sec-websocket-version")) != "13") {
    return refuse("426 Upgrade Required", "Sec-WebSocket-Version is not 13", "Sec-WebSocket-Version: 13\r\n");
  }
  std::string_view key = trim(value("sec-websocket-key"));
  if (!is_websocket_key(key)) return refuse("400 Bad Request", "Sec-WebSocket-Key missing or malformed");
  std::optional<std::string> subprotocol = choose_subprotocol(headers, settings);
  if (!subprotocol)
    return refuse("400 Bad Request",
                  fmt::format("no supported subprotocol in '{}'", value("sec-websocket-protocol")));
  UpgradeAnswer answer;
  answer.accepted = true;
  answer.subprotocol = *subprotocol;
  answer.response = fmt::format(
      "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
      "Sec-WebSocket-Accept: {}\r\n",
      websocket_accept_key(key));
  if (!subprotocol->empty()) answer.response += fmt::format("Sec-WebSocket-Protocol: {}\r\n", *subprotocol);
  answer.response += "\r\n";
  return answer;
}

}  // namespace

UpgradeAnswer answer_upgrade(std::string_view head, const WebSocketSettings& settings) {
  size_t line_end = head.find("\r\n");
  std::string_view request_line = head.substr(0, line_end);
  std::string_view header_lines =
      line_end == std::string_view::npos ? std::string_view() : head.substr(line_end + 2);
  size_t first_space = request_line.find(' ');
  size_t last_space = request_line.rfind(' ');
  if (first_space == std::string_view::npos || first_space == last_space) {
    return refuse("400 Bad Request", "malformed request line");
  }
  std::string_view method = request_line.substr(0, first_space);
  std::string_view target = request_line.substr(first_space + 1, last_space - first_space - 1);
  std::string_view version = request_line.substr(last_space + 1);
  if (method != "GET") return refuse("405 Method Not Allowed", "method is not GET", "Allow: GET\r\n");
  if (version != "HTTP/1.1") return refuse("505 HTTP Version Not Supported", "not HTTP/1.1");
  Headers headers;
  if (!parse_headers(header_lines, headers)) return refuse("400 Bad Request", "malformed header line");
  UpgradeAnswer answer = check_headers(headers, settings);
  answer.path = target;
  return answer;
}

std::string websocket_accept_key(std::string_view key) {
  std::string input = std::string(key) + std::string(kWebSocketGuid);
  unsigned char digest[SHA_DIGEST_LENGTH];
  SHA1(reinterpret_cast<const unsigned char*>(input.data()), input.size(), digest);
  unsigned char encoded[4 * ((SHA_DIGEST_LENGTH + 2) / 3) + 1];
  int length = EVP_EncodeBlock(encoded, digest, SHA_DIGEST_LENGTH);
  return std::string(reinterpret_cast<char*>(encoded), static_cast<size_t>(length));
}

}  // namespace stellwerk::net

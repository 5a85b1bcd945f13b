// libFuzzer target for the WebSocket server transport: arbitrary bytes as
// the upgrade request and the frames after it.
//
// The first input byte picks the set-up: bit 0 prepends a valid upgrade
// request (so the fuzzer reaches the frame parser at once), the other bits
// give the read size the input is cut into (1..128 bytes), and the second
// byte a max_frame_bytes of 0..255 or the default. Checked on the way: the
// application never gets more bytes than went in, nothing is answered or
// decoded once the transport has ended, and everything it sends after the
// upgrade is a well-formed server frame (FIN set, unmasked, known opcode).
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <span>
#include <string>
#include <string_view>

#include "net/websocket_transport.h"
#include "quiet_log.h"

namespace {

using namespace stellwerk::net;

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "fuzz_websocket: %s\n", what);
  std::abort();
}

constexpr std::string_view kUpgrade =
    "GET /mqtt HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
    "Sec-WebSocket-Protocol: mqtt\r\n\r\n";

// Walks `wire` as a sequence of complete server frames.
void check_server_frames(std::string_view wire) {
  while (!wire.empty()) {
    if (wire.size() < 2) fail("truncated frame header");
    auto first = static_cast<uint8_t>(wire[0]), second = static_cast<uint8_t>(wire[1]);
    uint8_t opcode = first & 0x0F;
    if ((first & 0xF0) != 0x80) fail("server frame without FIN or with reserved bits");
    if (opcode != 2 && opcode != 8 && opcode != 10) fail("unexpected server opcode");
    if ((second & 0x80) != 0) fail("masked server frame");
    uint64_t length = second & 0x7F;
    size_t header = 2;
    size_t extended = length == 126 ? 2 : (length == 127 ? 8 : 0);
    if (wire.size() < header + extended) fail("truncated frame length");
    if (extended > 0) {
      length = 0;
      for (size_t i = 0; i < extended; ++i) length = (length << 8) | static_cast<uint8_t>(wire[header + i]);
    }
    header += extended;
    if (opcode >= 8 && length > 125) fail("control frame over 125 bytes");
    if (wire.size() - header < length) fail("truncated frame payload");
    wire.remove_prefix(header + static_cast<size_t>(length));
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  WebSocketSettings settings;
  if (data[1] != 0xFF) settings.max_frame_bytes = data[1];
  settings.max_request_bytes = 1024;
  WebSocketServerTransport ws(settings);
  bool prepend_upgrade = (data[0] & 1) != 0;
  size_t piece = 1 + (data[0] >> 1);
  std::string input = prepend_upgrade ? std::string(kUpgrade) : std::string();
  input.append(reinterpret_cast<const char*>(data + 2), size - 2);

  size_t decoded = 0;
  bool ended = false;
  for (size_t at = 0; at < input.size(); at += piece) {
    std::string_view chunk = std::string_view(input).substr(at, piece);
    std::string up, down;
    bool was_established = ws.established();
    TransportStatus status =
        ws.on_input({reinterpret_cast<const uint8_t*>(chunk.data()), chunk.size()}, up, down);
    if (ended && (!up.empty() || !down.empty())) fail("output after the end");
    decoded += up.size();
    if (was_established) check_server_frames(down);
    if (!status.ok()) ended = true;
  }
  if (decoded > input.size()) fail("decoded more than arrived");
  std::string out;
  ws.wrap("payload", out);
  ws.goodbye(out);
  if (ws.established()) check_server_frames(out);
  return 0;
}

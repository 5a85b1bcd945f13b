// The server side of WebSocket (RFC 6455) as a transport: answers the HTTP
// upgrade, then turns the client's binary frames into one byte stream for the
// layer above and each batch of output into one binary frame.
//
// Frames are parsed by an explicit state machine that stops at any byte and
// resumes with the next input, nginx style. Data payloads are unmasked
// straight into the output as they arrive, never buffered whole, so neither a
// large frame nor a packet split over many frames costs memory here; only a
// frame header (at most 14 bytes) and a control payload (at most 125) wait
// for their missing bytes. MQTT does not care where frames begin or end
// ([MQTT-6.0.0-2]), so neither does this layer.
//
// Refusals, with the close code sent before closing: text frames 1003
// ([MQTT-6.0.0-1]); data frames over max_frame_bytes 1009; anything malformed
// (unmasked client frame, reserved bits, unknown opcode, bad fragmentation,
// oversized or fragmented control frame, invalid close payload) 1002, or 1007
// for a close reason that is not UTF-8.
#pragma once

#include <array>
#include <cstdint>
#include <string>

#include "net/transport.h"

namespace stellwerk::net {

namespace websocket {
enum Opcode : uint8_t { continuation = 0, text = 1, binary = 2, close = 8, ping = 9, pong = 10 };
enum CloseCode : uint16_t {
  normal = 1000,
  protocol_error = 1002,
  unsupported_data = 1003,
  invalid_payload = 1007,
  message_too_big = 1009,
};
// Appends an unmasked (server) frame with FIN set.
void append_frame(std::string& out, Opcode opcode, std::string_view payload);
}  // namespace websocket

class WebSocketServerTransport final : public Transport {
 public:
  // `settings` must outlive the transport (the chain keeps its stack alive).
  explicit WebSocketServerTransport(const WebSocketSettings& settings);

  TransportStatus on_input(std::span<const uint8_t> in, std::string& up, std::string& down) override;
  bool established() const override { return upgraded_; }
  void wrap(std::string_view plain, std::string& down) override;
  void goodbye(std::string& down) override;
  void describe(PeerInfo& info) const override;

 private:
  enum class Phase { upgrade_request, frames, closed };

  TransportStatus read_upgrade_request(std::span<const uint8_t>& in, std::string& down);
  TransportStatus read_frames(std::span<const uint8_t> in, std::string& up, std::string& down);
  size_t read_header_bytes(std::span<const uint8_t> in);
  TransportStatus start_frame(std::string& down);
  TransportStatus check_frame_kind(uint8_t opcode, bool fin, uint64_t length, std::string& down);
  size_t read_payload(std::span<const uint8_t> in, std::string& up);
  TransportStatus finish_control_frame(std::string& down);
  TransportStatus answer_close(std::string& down);
  void finish_frame();
  TransportStatus refuse(uint16_t code, std::string_view why, std::string& down);

  const WebSocketSettings& settings_;
  Phase phase_ = Phase::upgrade_request;
  bool upgraded_ = false;
  bool said_goodbye_ = false;  // our close frame (or HTTP refusal) is out
  std::string request_;        // the upgrade request until its blank line
  std::string subprotocol_, path_;

  // The frame being read.
  std::array<uint8_t, 14> header_{};  // 2 + 8 bytes of length + 4 of mask at most
  size_t header_have_ = 0;
  size_t header_need_ = 2;
  bool in_header_ = true;
  uint8_t opcode_ = 0;
  uint64_t payload_left_ = 0;
  std::array<uint8_t, 4> mask_{};
  size_t mask_offset_ = 0;  // payload bytes unmasked so far, modulo 4
  std::string control_payload_;
  bool in_fragmented_message_ = false;  // continuation frames are expected
};

}  // namespace stellwerk::net

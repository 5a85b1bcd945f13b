// WebSocket server framing: see websocket_transport.h.
#include "net/websocket_transport.h"

#include <fmt/format.h>

#include <algorithm>

#include "net/websocket_handshake.h"

namespace stellwerk::net {
namespace {

constexpr std::string_view kRequestTooLarge =
    "HTTP/1.1 431 Request Header Fields Too Large\r\nConnection: close\r\nContent-Length: 0\r\n\r\n";
constexpr size_t kMaxControlPayload = 125;

uint64_t read_be(const uint8_t* p, size_t bytes) {
  uint64_t value = 0;
  for (size_t i = 0; i < bytes; ++i) value = (value << 8) | p[i];
  return value;
}

void append_be(std::string& out, uint64_t value, size_t bytes) {
  for (size_t i = bytes; i-- > 0;) out.push_back(static_cast<char>((value >> (8 * i)) & 0xFF));
}

size_t extended_length_bytes(uint8_t length7) { return length7 == 126 ? 2 : (length7 == 127 ? 8 : 0); }

// RFC 6455 7.4: codes a peer may send; 1004-1006 and 1015 are never sent,
// 1012-1014 were registered later.
bool valid_close_code(uint16_t code) {
  return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) || (code >= 3000 && code <= 4999);
}

// The bytes a UTF-8 sequence with this lead byte has; 0 for a continuation
// byte, an overlong lead (C0, C1) or one past U+10FFFF.
size_t utf8_sequence_length(uint8_t lead) {
  if (lead < 0x80) return 1;
  if (lead >= 0xC2 && lead <= 0xDF) return 2;
  if (lead >= 0xE0 && lead <= 0xEF) return 3;
  if (lead >= 0xF0 && lead <= 0xF4) return 4;
  return 0;
}

// Well-formed UTF-8: no overlong forms, no surrogates, nothing past U+10FFFF.
bool is_utf8(std::string_view text) {
  for (size_t i = 0; i < text.size();) {
    auto lead = static_cast<uint8_t>(text[i]);
    size_t length = utf8_sequence_length(lead);
    if (length == 0 || length > text.size() - i) return false;
    // The second byte's range is narrower after these leads (RFC 3629 section 4).
    uint8_t low = lead == 0xE0 ? 0xA0 : lead == 0xF0 ? 0x90 : 0x80;
    uint8_t high = lead == 0xED ? 0x9F : lead == 0xF4 ? 0x8F : 0xBF;
    for (size_t k = 1; k < length; ++k) {
      auto next = static_cast<uint8_t>(text[i + k]);
      if (next < (k == 1 ? low : 0x80) || next > (k == 1 ? high : 0xBF)) return false;
    }
    i += length;
  }
  return true;
}

}  // namespace

void websocket::append_frame(std::string& out, Opcode opcode, std::string_view payload) {
  out.push_back(static_cast<char>(0x80 | opcode));
  if (payload.size() < 126) {
    out.push_back(static_cast<char>(payload.size()));
  } else if (payload.size() <= 0xFFFF) {
    out.push_back(static_cast<char>(126));
    append_be(out, payload.size(), 2);
  } else {
    out.push_back(static_cast<char>(127));
    append_be(out, payload.size(), 8);
  }
  out.append(payload);
}

WebSocketServerTransport::WebSocketServerTransport(const WebSocketSettings& settings) : settings_(settings) {}

TransportStatus WebSocketServerTransport::on_input(std::span<const uint8_t> in, std::string& up,
                                                   std::string& down) {
  if (phase_ == Phase::upgrade_request) {
    TransportStatus status = read_upgrade_request(in, down);
    if (!status.ok()) return status;
  }
  if (phase_ != Phase::frames) return {};  // still reading the request, or closed: input is dropped
  return read_frames(in, up, down);
}

// Consumes the request's bytes from `in`, leaving whatever follows its blank
// line (the first frames) there.
TransportStatus WebSocketServerTransport::read_upgrade_request(std::span<const uint8_t>& in,
                                                               std::string& down) {
  size_t old_size = request_.size();
  request_.append(reinterpret_cast<const char*>(in.data()), in.size());
  size_t blank_line = request_.find("\r\n\r\n", old_size >= 3 ? old_size - 3 : 0);
  size_t request_end = blank_line == std::string::npos ? request_.size() : blank_line + 4;
  if (request_end > settings_.max_request_bytes) {
    down.append(kRequestTooLarge);
    phase_ = Phase::closed;
    said_goodbye_ = true;
    return fail(
        TransportEnd{fmt::format("websocket upgrade request over {} bytes", settings_.max_request_bytes)});
  }
  if (blank_line == std::string::npos) {
    in = {};
    return {};
  }
  in = in.subspan(request_end - old_size);
  UpgradeAnswer answer = answer_upgrade(std::string_view(request_).substr(0, blank_line), settings_);
  std::string().swap(request_);
  down.append(answer.response);
  if (!answer.accepted) {
    phase_ = Phase::closed;
    said_goodbye_ = true;
    return fail(TransportEnd{"websocket upgrade refused: " + answer.problem});
  }
  phase_ = Phase::frames;
  upgraded_ = true;
  subprotocol_ = std::move(answer.subprotocol);
  path_ = std::move(answer.path);
  return {};
}

TransportStatus WebSocketServerTransport::read_frames(std::span<const uint8_t> in, std::string& up,
                                                      std::string& down) {
  while (!in.empty() && phase_ == Phase::frames) {
    if (in_header_) {
      in = in.subspan(read_header_bytes(in));
      if (header_have_ < header_need_) return {};  // the rest of the header is still on its way
      TransportStatus started = start_frame(down);
      if (!started.ok()) return started;
    } else {
      in = in.subspan(read_payload(in, up));
    }
    if (!in_header_ && payload_left_ == 0) {
      finish_frame();
      if (opcode_ < websocket::close) continue;
      TransportStatus handled = finish_control_frame(down);
      if (!handled.ok()) return handled;
    }
  }
  return {};
}

size_t WebSocketServerTransport::read_header_bytes(std::span<const uint8_t> in) {
  size_t used = 0;
  while (used < in.size() && header_have_ < header_need_) {
    header_[header_have_++] = in[used++];
    if (header_have_ != 2) continue;
    bool masked = (header_[1] & 0x80) != 0;
    header_need_ = 2 + extended_length_bytes(header_[1] & 0x7F) + (masked ? 4 : 0);
  }
  return used;
}

TransportStatus WebSocketServerTransport::start_frame(std::string& down) {
  bool fin = (header_[0] & 0x80) != 0;
  uint8_t opcode = header_[0] & 0x0F;
  if ((header_[0] & 0x70) != 0) return refuse(websocket::protocol_error, "reserved bits set", down);
  if ((header_[1] & 0x80) == 0) return refuse(websocket::protocol_error, "unmasked client frame", down);
  size_t extended = extended_length_bytes(header_[1] & 0x7F);
  uint64_t length = extended == 0 ? (header_[1] & 0x7F) : read_be(&header_[2], extended);
  if (length >> 63 != 0) return refuse(websocket::protocol_error, "64-bit length with the top bit set", down);
  TransportStatus allowed = check_frame_kind(opcode, fin, length, down);
  if (!allowed.ok()) return allowed;
  std::copy_n(header_.begin() + 2 + static_cast<ptrdiff_t>(extended), 4, mask_.begin());
  opcode_ = opcode;
  payload_left_ = length;
  mask_offset_ = 0;
  in_header_ = false;
  control_payload_.clear();
  return {};
}

TransportStatus WebSocketServerTransport::check_frame_kind(uint8_t opcode, bool fin, uint64_t length,
                                                           std::string& down) {
  using namespace websocket;
  if (opcode >= close) {
    if (opcode != close && opcode != ping && opcode != pong)
      return refuse(protocol_error, "unknown control opcode", down);
    if (!fin) return refuse(protocol_error, "fragmented control frame", down);
    if (length > kMaxControlPayload) return refuse(protocol_error, "control frame over 125 bytes", down);
    return {};
  }
  if (opcode == text) return refuse(unsupported_data, "text frame", down);
  if (opcode == binary && in_fragmented_message_)
    return refuse(protocol_error, "new message inside a fragmented one", down);
  if (opcode == continuation && !in_fragmented_message_)
    return refuse(protocol_error, "continuation without a message", down);
  if (opcode != binary && opcode != continuation) return refuse(protocol_error, "unknown data opcode", down);
  if (length > settings_.max_frame_bytes) {
    return refuse(message_too_big,
                  fmt::format("frame of {} bytes over the limit of {}", length, settings_.max_frame_bytes),
                  down);
  }
  in_fragmented_message_ = !fin;
  return {};
}

size_t WebSocketServerTransport::read_payload(std::span<const uint8_t> in, std::string& up) {
  auto take = static_cast<size_t>(std::min<uint64_t>(payload_left_, in.size()));
  std::string& target = opcode_ >= websocket::close ? control_payload_ : up;
  size_t start = target.size();
  target.append(reinterpret_cast<const char*>(in.data()), take);
  char* unmasked = target.data() + start;
  for (size_t i = 0; i < take; ++i)
    unmasked[i] = static_cast<char>(unmasked[i] ^ mask_[(mask_offset_ + i) & 3]);
  mask_offset_ = (mask_offset_ + take) & 3;
  payload_left_ -= take;
  return take;
}

void WebSocketServerTransport::finish_frame() {
  in_header_ = true;
  header_have_ = 0;
  header_need_ = 2;
}

TransportStatus WebSocketServerTransport::finish_control_frame(std::string& down) {
  switch (opcode_) {
    case websocket::ping:
      if (!said_goodbye_) websocket::append_frame(down, websocket::pong, control_payload_);
      return {};
    case websocket::close:
      return answer_close(down);
    default:
      return {};  // an unsolicited pong is allowed and means nothing
  }
}

TransportStatus WebSocketServerTransport::answer_close(std::string& down) {
  std::string_view payload = control_payload_;
  if (payload.size() == 1) return refuse(websocket::protocol_error, "close payload of one byte", down);
  std::string reply;  // echoes the code, as RFC 6455 5.5.1 suggests
  std::string why = "websocket close from the peer";
  if (payload.size() >= 2) {
    auto code = static_cast<uint16_t>(read_be(reinterpret_cast<const uint8_t*>(payload.data()), 2));
    if (!valid_close_code(code))
      return refuse(websocket::protocol_error, fmt::format("close code {}", code), down);
    if (!is_utf8(payload.substr(2)))
      return refuse(websocket::invalid_payload, "close reason not UTF-8", down);
    append_be(reply, code, 2);
    why += fmt::format(" (code {})", code);
  }
  if (!said_goodbye_) websocket::append_frame(down, websocket::close, reply);
  said_goodbye_ = true;
  phase_ = Phase::closed;
  return fail(TransportEnd{why, false});
}

TransportStatus WebSocketServerTransport::refuse(uint16_t code, std::string_view why, std::string& down) {
  if (!said_goodbye_) {
    std::string payload;
    append_be(payload, code, 2);
    payload.append(why.substr(0, kMaxControlPayload - 2));
    websocket::append_frame(down, websocket::close, payload);
    said_goodbye_ = true;
  }
  phase_ = Phase::closed;
  return fail(TransportEnd{fmt::format("websocket: {} (close code {})", why, code)});
}

void WebSocketServerTransport::wrap(std::string_view plain, std::string& down) {
  if (phase_ != Phase::frames || said_goodbye_ || plain.empty()) return;
  websocket::append_frame(down, websocket::binary, plain);
}

void WebSocketServerTransport::goodbye(std::string& down) {
  if (phase_ != Phase::frames || said_goodbye_) return;
  std::string payload;
  append_be(payload, websocket::normal, 2);
  websocket::append_frame(down, websocket::close, payload);
  said_goodbye_ = true;
  phase_ = Phase::closed;
}

void WebSocketServerTransport::describe(PeerInfo& info) const {
  if (!upgraded_) return;
  info.websocket = true;
  info.websocket_subprotocol = subprotocol_;
  info.websocket_path = path_;
}

}  // namespace stellwerk::net

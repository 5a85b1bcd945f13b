// libFuzzer target for the MQTT decoder. The first input byte picks the
// version (3.1, 3.1.1, 5); the rest goes through scan_frame and decode_packet
// as a connection would feed it. Whatever decodes must re-encode to
// encoded_size() bytes that decode to the same packet and encode identically
// again; a PUBLISH frame must get the same result from the broker's fast path
// (decode_publish_frame) as from decode_packet. Anything else aborts, which
// libFuzzer reports as a crash.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <span>
#include <string>

#include "mqtt/codec.h"
#include "quiet_log.h"

namespace {

using namespace stellwerk::mqtt;

[[noreturn]] void fail(const char* what, const std::string& detail) {
  std::fprintf(stderr, "fuzz_decoder: %s: %s\n", what, detail.c_str());
  std::abort();
}

Version version_from(uint8_t selector) {
  switch (selector % 3) {
    case 0: return Version::v31;
    case 1: return Version::v311;
    default: return Version::v5;
  }
}

std::span<const uint8_t> as_bytes(const std::string& text) {
  return {reinterpret_cast<const uint8_t*>(text.data()), text.size()};
}

void check_round_trip(const Packet& packet, Version version) {
  std::string bytes;
  encode(packet, version, bytes);
  if (bytes.size() != encoded_size(packet, version)) fail("encoded_size mismatch", "");
  auto again = decode_packet(as_bytes(bytes), version);
  if (!again.ok()) fail("re-encoded packet does not decode", again.error().why);
  const char* type = packet_type_name(packet_type(packet));
  if (!(*again == packet)) fail("round trip changed the packet", type);
  std::string bytes_again;
  encode(*again, version, bytes_again);
  if (bytes_again != bytes) fail("encoding is not stable", type);
}

// The fast path's view and decode_packet agree: the same fields, or the
// same error.
void check_publish_frame(std::span<const uint8_t> frame, const stellwerk::Result<Packet, DecodeError>& decoded,
                         Version version) {
  if (frame.empty() || frame[0] >> 4 != static_cast<uint8_t>(PacketType::publish)) return;
  PublishFrame view;
  const auto fast = decode_publish_frame(frame, version, view);
  if (fast.ok() != decoded.ok()) fail("fast and slow PUBLISH decoders disagree", decoded.ok() ? fast.error().why : "");
  if (!decoded.ok()) {
    if (fast.error().why != decoded.error().why) fail("fast and slow PUBLISH errors differ", fast.error().why);
    return;
  }
  Publish from_view;
  assign_publish(std::move(view), from_view);
  const Publish& publish = std::get<Publish>(*decoded);
  if (!(from_view == publish)) fail("fast PUBLISH view differs from decode_packet", publish.topic);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  Version version = version_from(data[0]);
  std::span<const uint8_t> input(data + 1, size - 1);
  FrameScan scan = scan_frame(input);
  if (scan.status != FrameStatus::complete) return 0;
  const auto frame = input.first(scan.header.total_size());
  auto decoded = decode_packet(frame, version);
  if (decoded.ok()) check_round_trip(*decoded, version);
  check_publish_frame(frame, decoded, version);
  // The whole input as one frame exercises the size-mismatch path too.
  if (scan.header.total_size() != input.size()) (void)decode_packet(input, version).ok();
  return 0;
}

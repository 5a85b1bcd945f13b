// Round-robin packet id allocation (see packet_ids.h).
#include "client/packet_ids.h"

namespace stellwerk::client {

std::optional<uint16_t> PacketIds::allocate() {
  if (count_ == 65535) return std::nullopt;
  uint16_t candidate = last_;
  do {
    candidate = candidate == 65535 ? 1 : static_cast<uint16_t>(candidate + 1);
  } while (taken_.test(candidate));
  taken_.set(candidate);
  ++count_;
  last_ = candidate;
  return candidate;
}

void PacketIds::release(uint16_t id) {
  if (id == 0 || !taken_.test(id)) return;
  taken_.reset(id);
  --count_;
}

void PacketIds::clear() {
  taken_.reset();
  count_ = 0;
}

}  // namespace stellwerk::client

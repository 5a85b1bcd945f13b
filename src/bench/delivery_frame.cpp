#include "bench/delivery_frame.h"

namespace stellwerk::bench {
namespace {

// A bounded cursor over the frame: every read fails softly past the end.
class Cursor {
 public:
  explicit Cursor(std::span<const uint8_t> bytes) : bytes_(bytes) {}
  bool ok() const { return ok_; }
  std::span<const uint8_t> rest() const { return bytes_.subspan(at_); }

  uint8_t byte() { return take(1) ? bytes_[at_ - 1] : 0; }
  uint16_t u16() { return take(2) ? static_cast<uint16_t>(bytes_[at_ - 2] << 8 | bytes_[at_ - 1]) : 0; }
  // A variable byte integer of at most four bytes.
  uint32_t varint() {
    uint32_t value = 0;
    for (int shift = 0; shift < 28; shift += 7) {
      const uint8_t next = byte();
      value |= uint32_t{next & 0x7Fu} << shift;
      if ((next & 0x80) == 0) return value;
    }
    ok_ = false;
    return 0;
  }
  std::span<const uint8_t> skip(size_t size) {
    return take(size) ? bytes_.subspan(at_ - size, size) : std::span<const uint8_t>();
  }

 private:
  bool take(size_t size) {
    if (!ok_ || size > bytes_.size() - at_) return ok_ = false;
    at_ += size;
    return true;
  }

  std::span<const uint8_t> bytes_;
  size_t at_ = 0;
  bool ok_ = true;
};

}  // namespace

std::optional<DeliveryFrame> read_delivery_frame(std::span<const uint8_t> frame, mqtt::Version version) {
  Cursor cursor(frame);
  const uint8_t qos = (cursor.byte() >> 1) & 0x3;
  if (qos == 3) return std::nullopt;
  (void)cursor.varint();  // the remaining length: `frame` already ends where it says
  DeliveryFrame delivery;
  delivery.qos = static_cast<mqtt::QoS>(qos);
  const std::span<const uint8_t> topic = cursor.skip(cursor.u16());
  delivery.topic = std::string_view(reinterpret_cast<const char*>(topic.data()), topic.size());
  if (qos != 0) delivery.packet_id = cursor.u16();
  if (version == mqtt::Version::v5) cursor.skip(cursor.varint());
  if (!cursor.ok()) return std::nullopt;
  delivery.payload = cursor.rest();
  return delivery;
}

}  // namespace stellwerk::bench

// Frame and file-header encoding. seal() runs where the log is written
// (the committing thread under interval and never, the store thread under
// always) over frames encoded before, so that sequence numbers are assigned
// in write order.
#include "store/frame.h"

#include <fmt/format.h>

#include "store/crc32c.h"

namespace stellwerk::store::frame {
namespace {

constexpr size_t kLengthOffset = 4;
constexpr size_t kTypeOffset = 8;
constexpr size_t kSequenceOffset = 9;

// What the CRC of a frame covers: everything after itself.
std::string_view crc_covered(const char* frame, size_t payload_size) {
  return std::string_view(frame + kLengthOffset, kHeaderSize - kLengthOffset + payload_size);
}

uint32_t frame_crc(const char* frame, size_t payload_size, uint32_t seed) {
  const std::string_view covered = crc_covered(frame, payload_size);
  return crc32c::extend(seed, covered.data(), covered.size());
}

}  // namespace

namespace detail {

void finish_unsealed(char* frame, size_t payload_size, RecordType record_type, bool batch_end) {
  coding::store_fixed(frame + kLengthOffset, static_cast<uint32_t>(payload_size));
  const auto type = static_cast<uint8_t>(record_type);
  frame[kTypeOffset] = static_cast<char>(batch_end ? (type | kBatchEndBit) : type);
}

}  // namespace detail

void append_unsealed(std::string& out, const Record& record, bool batch_end) {
  const size_t start = out.size();
  out.append(kHeaderSize, '\0');
  encode_payload(record, out);
  detail::finish_unsealed(out.data() + start, out.size() - start - kHeaderSize, type_of(record), batch_end);
}

namespace {

// Seals frames three at a time (crc32c::values3): the frames of a batch are
// short, and one CRC at a time leaves the CPU waiting on each instruction.
class Sealer {
 public:
  Sealer(std::string& bytes, uint32_t seed) : bytes_(bytes), seed_(seed) {}
  void add(size_t offset) {
    offsets_[pending_++] = offset;
    if (pending_ < 3) return;
    const std::string_view inputs[3] = {covered(offsets_[0]), covered(offsets_[1]), covered(offsets_[2])};
    uint32_t crcs[3];
    crc32c::extend3(seed_, inputs, crcs);
    for (size_t i = 0; i < 3; ++i) patch(offsets_[i], crcs[i]);
    pending_ = 0;
  }
  // Seals the last one or two frames.
  void finish() {
    for (size_t i = 0; i < pending_; ++i) {
      const std::string_view input = covered(offsets_[i]);
      patch(offsets_[i], crc32c::extend(seed_, input.data(), input.size()));
    }
    pending_ = 0;
  }

 private:
  std::string_view covered(size_t offset) const {
    const char* frame = bytes_.data() + offset;
    return crc_covered(frame, coding::load_u32(frame + kLengthOffset));
  }
  void patch(size_t offset, uint32_t crc) { coding::patch_u32(bytes_, offset, crc); }

  std::string& bytes_;
  uint32_t seed_;
  size_t offsets_[3] = {};
  size_t pending_ = 0;
};

// Calls stamp(offset, index) on each frame from `offset` on, then seals it.
template <typename Stamp>
size_t seal_frames(std::string& bytes, size_t offset, uint32_t seed, Stamp&& stamp) {
  Sealer sealer(bytes, seed);
  size_t frames = 0;
  for (; offset + kHeaderSize <= bytes.size(); ++frames) {
    const uint32_t payload_size = coding::load_u32(bytes.data() + offset + kLengthOffset);
    stamp(offset, frames);
    sealer.add(offset);
    offset += kHeaderSize + payload_size;
  }
  sealer.finish();
  return frames;
}

}  // namespace

size_t seal(std::string& bytes, Sequence first, uint32_t seed) {
  return seal_frames(bytes, 0, seed, [&](size_t offset, size_t index) {
    coding::patch_u64(bytes, offset + kSequenceOffset, first + index);
  });
}

size_t seal_at(std::string& bytes, size_t offset, Sequence sequence) {
  return seal_frames(bytes, offset, 0, [&](size_t at, size_t) {
    bytes[at + kTypeOffset] = static_cast<char>(bytes[at + kTypeOffset] & ~kBatchEndBit);
    coding::patch_u64(bytes, at + kSequenceOffset, sequence);
  });
}

void mark_batch_end(std::string& bytes, size_t offset) {
  bytes[offset + kTypeOffset] = static_cast<char>(bytes[offset + kTypeOffset] | kBatchEndBit);
}

void append(std::string& out, const Record& record, bool batch_end, Sequence sequence) {
  std::string frame;
  append_unsealed(frame, record, batch_end);
  seal(frame, sequence);
  out += frame;
}

ReadStatus Reader::next(Frame& frame) {
  const size_t left = input_.size() - offset_;
  if (left == 0) return ReadStatus::end;
  if (left < kHeaderSize) return ReadStatus::truncated;
  const char* p = input_.data() + offset_;
  const uint32_t payload_size = coding::load_u32(p + kLengthOffset);
  if (payload_size > kMaxPayload) return ReadStatus::corrupt;
  if (payload_size > left - kHeaderSize) return ReadStatus::truncated;
  if (check_ == Check::crc && coding::load_u32(p) != frame_crc(p, payload_size, seed_))
    return ReadStatus::corrupt;
  const auto type_byte = static_cast<uint8_t>(p[kTypeOffset]);
  const uint8_t type = type_byte & ~kBatchEndBit;
  if (type < 1 || type > kLastRecordType) return ReadStatus::corrupt;
  frame.type = static_cast<RecordType>(type);
  frame.batch_end = (type_byte & kBatchEndBit) != 0;
  frame.sequence = coding::load_u64(p + kSequenceOffset);
  frame.payload = input_.substr(offset_ + kHeaderSize, payload_size);
  offset_ += kHeaderSize + payload_size;
  return ReadStatus::ok;
}

std::optional<Sequence> sequence_at(std::string_view input, size_t offset) {
  if (offset > input.size() || input.size() - offset < kHeaderSize) return std::nullopt;
  return coding::load_u64(input.data() + offset + kSequenceOffset);
}

bool valid_frame_at(std::string_view input, size_t offset, uint32_t seed, Sequence at_least) {
  const std::optional<Sequence> sequence = sequence_at(input, offset);
  if (!sequence || *sequence < at_least || *sequence - at_least > (Sequence{1} << 32)) return false;
  Reader reader(input.substr(offset), Reader::Check::crc, seed);
  Frame frame;
  return reader.next(frame) == ReadStatus::ok;
}

namespace {

// `header` (a magic and its fields) followed by the CRC of all of it.
std::string with_crc(std::string header) {
  coding::put_u32(header, crc32c::value(header));
  return header;
}

// The bytes before the CRC of a header of `size` bytes (CRC included) that
// `input` starts with, when its magic is `magic` and its CRC holds.
std::optional<std::string_view> checked_header(std::string_view input, std::string_view magic, size_t size) {
  if (input.size() < size || !input.starts_with(magic)) return std::nullopt;
  const std::string_view covered = input.substr(0, size - 4);
  if (coding::load_u32(input.data() + covered.size()) != crc32c::value(covered)) return std::nullopt;
  return covered;
}

}  // namespace

std::string file_header(std::string_view magic, Sequence sequence) {
  std::string header(magic);
  coding::put_u64(header, sequence);
  return with_crc(std::move(header));
}

std::optional<Sequence> parse_file_header(std::string_view input, std::string_view magic) {
  const auto header = checked_header(input, magic, kFileHeaderSize);
  if (!header) return std::nullopt;
  return coding::load_u64(header->data() + 8);
}

std::string salted_segment_header(Sequence first, uint64_t salt) {
  std::string header(kSaltedSegmentMagic);
  coding::put_u64(header, first);
  coding::put_u64(header, salt);
  return with_crc(std::move(header));
}

uint32_t crc_seed(uint64_t salt) {
  std::string bytes;
  coding::put_u64(bytes, salt);
  return crc32c::value(bytes);
}

std::optional<SegmentHeader> parse_segment_header(std::string_view input) {
  if (auto first = parse_file_header(input, kSegmentMagic))
    return SegmentHeader{*first, 0, kFileHeaderSize, false};
  const auto header = checked_header(input, kSaltedSegmentMagic, kSaltedHeaderSize);
  if (!header) return std::nullopt;
  return SegmentHeader{coding::load_u64(header->data() + 8), crc_seed(coding::load_u64(header->data() + 16)),
                       kSaltedHeaderSize, true};
}

std::string segment_name(Sequence first) { return fmt::format("wal-{:020}.log", first); }

std::optional<Sequence> parse_segment_name(std::string_view name) {
  constexpr std::string_view kPrefix = "wal-";
  constexpr std::string_view kSuffix = ".log";
  if (name.size() != kPrefix.size() + 20 + kSuffix.size()) return std::nullopt;
  if (!name.starts_with(kPrefix) || !name.ends_with(kSuffix)) return std::nullopt;
  Sequence value = 0;
  for (char c : name.substr(kPrefix.size(), 20)) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + static_cast<Sequence>(c - '0');
  }
  return value;
}

}  // namespace stellwerk::store::frame

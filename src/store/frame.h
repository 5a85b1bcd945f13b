// Framing shared by log segments and snapshots: a file header, then frames.
//
//   frame  = crc32c:u32 | length:u32 | type:u8 | sequence:u64 | payload[length]
//
// The CRC covers everything after itself. The type byte's high bit marks the
// last frame of a batch: recovery applies a batch only when its last frame
// arrived, so a batch is all-or-nothing. Integers are little-endian. The
// full byte layout, with the file headers, is in docs/formats/store.md.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "store/record.h"

namespace stellwerk::store::frame {

inline constexpr size_t kHeaderSize = 17;            // crc + length + type + sequence
inline constexpr uint32_t kMaxPayload = 512u << 20;  // larger than any MQTT packet
inline constexpr uint8_t kBatchEndBit = 0x80;

// Appends a frame for `record` with sequence and CRC left zero (seal() sets them).
void append_unsealed(std::string& out, const Record& record, bool batch_end);
// The same for a record of `type` whose payload `encode(writer)` writes
// through `out` (the view encoders of record.h: no Record built on the
// broker's hot path).
template <typename Encode>
void append_unsealed_as(coding::Writer& out, RecordType type, Encode&& encode);
// Sets the sequence numbers (first, first + 1, ...) and CRCs of the unsealed
// frames that make up `bytes`. Returns the number of frames. `seed` is the
// CRC the frames' CRCs continue from: a salted segment's (crc_seed()), or 0.
size_t seal(std::string& bytes, Sequence first, uint32_t seed = 0);
// Seals the frames from `offset` on, all with `sequence`, clearing their
// batch-end bits (a snapshot's frames). Returns the number of frames.
size_t seal_at(std::string& bytes, size_t offset, Sequence sequence);
// Sets the batch-end bit of the frame that starts at `offset`.
void mark_batch_end(std::string& bytes, size_t offset);
// Appends a complete frame.
void append(std::string& out, const Record& record, bool batch_end, Sequence sequence);

namespace detail {
// Fills in the length and type of `frame`, whose payload is `payload_size` bytes.
void finish_unsealed(char* frame, size_t payload_size, RecordType record_type, bool batch_end);
}  // namespace detail

template <typename Encode>
void append_unsealed_as(coding::Writer& out, RecordType type, Encode&& encode) {
  const size_t start = out.offset();
  out.reserve(kHeaderSize);
  out.skip(kHeaderSize);  // length and type come below, sequence and CRC with seal()
  encode(out);
  detail::finish_unsealed(out.at(start), out.offset() - start - kHeaderSize, type, false);
}

struct Frame {
  RecordType type = RecordType::message_put;
  bool batch_end = false;
  Sequence sequence = 0;
  std::string_view payload;
};

enum class ReadStatus {
  ok,         // `frame` is valid
  end,        // no bytes left
  truncated,  // the next frame runs past the end of the input (a torn write)
  corrupt,    // CRC mismatch or an impossible length or type
};

// Walks the frames of a buffer without copying.
class Reader {
 public:
  // `trusted`: frames this process sealed itself and handed over in memory
  // (the snapshot thread's input), whose CRCs need no second computation.
  enum class Check { crc, trusted };
  // `seed`: as for seal().
  explicit Reader(std::string_view input, Check check = Check::crc, uint32_t seed = 0)
      : input_(input), check_(check), seed_(seed) {}
  ReadStatus next(Frame& frame);
  // Offset of the next unread frame, or of the damaged one after an error.
  size_t offset() const { return offset_; }
  size_t size() const { return input_.size(); }

 private:
  std::string_view input_;
  Check check_;
  uint32_t seed_;
  size_t offset_ = 0;
};

// True when a valid frame (its length within `input`, a known type, its
// CRC continued from `seed`) with a sequence from `at_least` to
// at_least + 2^32 starts at `offset`. Cheap where none does: recovery tries
// every offset of a reused file's stale bytes.
bool valid_frame_at(std::string_view input, size_t offset, uint32_t seed, Sequence at_least);
// The sequence field of the frame that would start at `offset` (valid or
// not), or nullopt when the input ends before it.
std::optional<Sequence> sequence_at(std::string_view input, size_t offset);

// --- file headers: magic:8 | sequence:u64 | crc32c(previous 16 bytes):u32
inline constexpr size_t kFileHeaderSize = 20;
inline constexpr std::string_view kSegmentMagic{"STWWAL01", 8};
inline constexpr std::string_view kSnapshotMagic{"STWSNP01", 8};

std::string file_header(std::string_view magic, Sequence sequence);
// The header's sequence, or nullopt when the magic or CRC is wrong or the
// input is too short.
std::optional<Sequence> parse_file_header(std::string_view input, std::string_view magic);

// --- salted segments (since 5 December 2026): the store reuses segment
// files, so that bytes of a file's former life may follow its last record.
// The header carries a random salt, and every frame's CRC continues from the
// CRC of that salt: no frame of a former life, nor a frame an MQTT payload
// carried into one, is valid in the new one.
//   magic "STWWAL02":8 | first sequence:u64 | salt:u64 | crc32c(previous 24 bytes):u32
inline constexpr std::string_view kSaltedSegmentMagic{"STWWAL02", 8};
inline constexpr size_t kSaltedHeaderSize = 28;

struct SegmentHeader {
  Sequence first = 0;
  uint32_t seed = 0;  // the CRC the frames continue from: 0 in an unsalted segment
  size_t size = 0;    // where the frames start
  bool salted = false;
};
std::string salted_segment_header(Sequence first, uint64_t salt);
uint32_t crc_seed(uint64_t salt);
// A header of either kind (kSegmentMagic or kSaltedSegmentMagic), or nullopt.
std::optional<SegmentHeader> parse_segment_header(std::string_view input);

// --- file names in the store directory
std::string segment_name(Sequence first);  // "wal-00000000000000000001.log"
std::optional<Sequence> parse_segment_name(std::string_view name);
inline constexpr std::string_view kSnapshotName = "state.snap";
inline constexpr std::string_view kSnapshotTempName = "state.snap.tmp";
// An obsolete segment kept for the log to write over next (SegmentLog).
inline constexpr std::string_view kSpareSegmentName = "wal-spare.log";

}  // namespace stellwerk::store::frame

// Writing and reading snapshot files. The writer streams records out in
// chunks so that a large state does not need a second copy in memory.
#include "store/snapshot.h"

#include <array>

#include "store/coding.h"
#include "store/frame.h"

namespace stellwerk::store {
namespace {

constexpr size_t kChunkBytes = 1 << 20;

// Appends snapshot records to a file a chunk at a time, keeping the first error.
class ChunkWriter {
 public:
  ChunkWriter(WritableFile& file, Sequence sequence) : file_(file), sequence_(sequence) {}

  void add(const Record& record, bool last) {
    frame::append(buffer_, record, last, sequence_);
    ++records_;
    if (buffer_.size() >= kChunkBytes) flush();
  }
  IoStatus finish() {
    flush();
    return status_;
  }
  uint64_t records() const { return records_; }

 private:
  void flush() {
    if (status_.ok() && !buffer_.empty()) status_ = file_.append(buffer_);
    buffer_.clear();
  }

  WritableFile& file_;
  Sequence sequence_;
  std::string buffer_;
  uint64_t records_ = 0;
  IoStatus status_;
};

IoStatus write_contents(WritableFile& file, const State& state, Sequence sequence) {
  if (auto status = file.append(frame::file_header(frame::kSnapshotMagic, sequence)); !status) return status;
  ChunkWriter writer(file, sequence);
  state.for_each_record([&](const Record& record) { writer.add(record, false); });
  writer.add(record::SnapshotEnd{writer.records()}, true);
  if (auto status = writer.finish(); !status) return status;
  if (auto status = file.sync(); !status) return status;
  return file.close();
}

// Counts the frames of each record type by their headers alone (no CRCs, no
// decoding), as far as the lengths lead: enough to size the state's tables
// before the real pass, which checks everything.
std::array<size_t, kLastRecordType + 1> count_frames(std::string_view frames) {
  std::array<size_t, kLastRecordType + 1> counts{};
  size_t offset = 0;
  while (frames.size() - offset >= frame::kHeaderSize) {
    const uint32_t length = coding::load_u32(frames.data() + offset + 4);
    const auto type = static_cast<uint8_t>(frames[offset + 8]) & ~frame::kBatchEndBit;
    if (length > frames.size() - offset - frame::kHeaderSize || type > kLastRecordType) break;
    ++counts[type];
    offset += frame::kHeaderSize + length;
  }
  return counts;
}

}  // namespace

IoStatus write_snapshot(Env& env, const std::string& dir, const State& state, Sequence sequence) {
  const std::string temp = join_path(dir, frame::kSnapshotTempName);
  auto file = env.create(temp);
  if (!file) return fail(file.error());
  if (auto status = write_contents(**file, state, sequence); !status) return status;
  if (auto status = env.rename(temp, join_path(dir, frame::kSnapshotName)); !status) return status;
  return env.sync_dir(dir);
}

SnapshotReadResult read_snapshot(std::string_view bytes, State& state) {
  SnapshotReadResult result;
  result.sequence = frame::parse_file_header(bytes, frame::kSnapshotMagic);
  if (!result.sequence) return result;
  const std::string_view frames = bytes.substr(frame::kFileHeaderSize);
  const auto counts = count_frames(frames);
  state.reserve(counts[static_cast<size_t>(RecordType::message_put)],
                counts[static_cast<size_t>(RecordType::retained_set)]);
  frame::Reader reader(frames);
  frame::Frame frame;
  while (reader.next(frame) == frame::ReadStatus::ok) {
    auto record = decode_payload(frame.type, frame.payload);
    if (!record) break;
    if (auto* end = std::get_if<record::SnapshotEnd>(&*record)) {
      result.complete = end->records == result.records && reader.offset() == reader.size();
      break;
    }
    state.apply(*record);
    ++result.records;
  }
  state.end_batch();
  result.damage_offset = frame::kFileHeaderSize + reader.offset();
  return result;
}

}  // namespace stellwerk::store

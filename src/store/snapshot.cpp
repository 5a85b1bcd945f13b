// Writing and reading snapshot files. The writer streams records out in
// chunks so that a large state does not need a second copy in memory.
#include "store/snapshot.h"

#include <array>

#include "store/coding.h"
#include "store/frame.h"

namespace stellwerk::store {
namespace {

constexpr size_t kChunkBytes = 1 << 20;

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

// A session described in a slice captured after the header's sequence.
void note_capture(const Record& record, Sequence captured_at, SnapshotReadResult& result) {
  if (captured_at <= *result.sequence) return;
  if (auto client_id = client_id_of(record)) result.captured_after[std::string(*client_id)] = captured_at;
}

}  // namespace

SnapshotWriter::SnapshotWriter(std::unique_ptr<WritableFile> file, Sequence sequence)
    : file_(std::move(file)), sequence_(sequence) {}

IoResult<SnapshotWriter> SnapshotWriter::start(Env& env, const std::string& dir, Sequence sequence) {
  auto file = env.create(join_path(dir, frame::kSnapshotTempName));
  if (!file) return fail(file.error());
  SnapshotWriter writer(std::move(*file), sequence);
  writer.buffer_ = frame::file_header(frame::kSnapshotMagic, sequence);
  return writer;
}

void SnapshotWriter::begin_slice(Sequence captured_at) { add(record::Slice{captured_at}); }

void SnapshotWriter::add(const Record& record) {
  frame::append(buffer_, record, false, sequence_);
  ++records_;
  flush_if_full();
}

void SnapshotWriter::flush_if_full() {
  if (buffer_.size() >= kChunkBytes) flush();
}

void SnapshotWriter::flush() {
  if (status_.ok() && !buffer_.empty()) status_ = file_->append(buffer_);
  buffer_.clear();
}

void SnapshotWriter::add_batch(Batch& batch) {
  BatchData data;
  batch.finish_into(data);
  const size_t start = buffer_.size();
  buffer_ += data.frames;
  // One sequence for every frame, and no batch ends: the snapshot is one piece.
  records_ += frame::seal_at(buffer_, start, sequence_);
  flush_if_full();
}

IoStatus SnapshotWriter::finish() {
  frame::append(buffer_, record::SnapshotEnd{records_}, true, sequence_);
  flush();
  if (!status_) return status_;
  if (auto status = file_->sync(); !status) return status;
  return file_->close();
}

IoStatus SnapshotWriter::publish(Env& env, const std::string& dir) {
  const std::string temp = join_path(dir, frame::kSnapshotTempName);
  if (auto status = env.rename(temp, join_path(dir, frame::kSnapshotName)); !status) return status;
  return env.sync_dir(dir);
}

IoStatus write_snapshot(Env& env, const std::string& dir, const State& state, Sequence sequence) {
  auto writer = SnapshotWriter::start(env, dir, sequence);
  if (!writer) return fail(writer.error());
  state.for_each_record([&](const Record& record) { writer->add(record); });
  if (auto status = writer->finish(); !status) return status;
  return SnapshotWriter::publish(env, dir);
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
  Sequence captured_at = *result.sequence;
  while (reader.next(frame) == frame::ReadStatus::ok) {
    auto record = decode_payload(frame.type, frame.payload);
    if (!record) break;
    if (auto* end = std::get_if<record::SnapshotEnd>(&*record)) {
      result.complete = end->records == result.records && reader.offset() == reader.size();
      break;
    }
    if (auto* slice = std::get_if<record::Slice>(&*record)) captured_at = slice->captured_at;
    note_capture(*record, captured_at, result);
    state.apply(*record);
    ++result.records;
  }
  state.end_batch();
  result.damage_offset = frame::kFileHeaderSize + reader.offset();
  return result;
}

}  // namespace stellwerk::store

// The recovery walk. The "baseline" is the sequence the next segment must
// continue from: the snapshot's, or, without a readable snapshot header, the
// start of the first segment (so a lost snapshot still lets the log count).
#include "store/recovery.h"

#include <algorithm>
#include <unordered_map>

#include "base/log.h"
#include "store/frame.h"
#include "store/snapshot.h"

namespace stellwerk::store {
namespace {

enum class Outcome { clean, torn, corrupt, gap };

struct SegmentResult {
  Outcome outcome = Outcome::clean;
  size_t valid_bytes = 0;   // the prefix that was applied or skipped as old
  bool maybe_torn = false;  // the damage looks like an interrupted write
};

bool all_zero(std::string_view bytes) {
  return std::all_of(bytes.begin(), bytes.end(), [](char c) { return c == 0; });
}

class Recoverer {
 public:
  Recoverer(Env& env, std::string dir, WallMs now) : env_(env), dir_(std::move(dir)), now_(now) {}

  IoStatus run() {
    auto names = env_.list(dir_);
    if (!names) return fail(names.error());
    remove_leftovers(*names);
    result_.state.keep_topic_order(true);
    load_snapshot(*names);
    replay_segments(segments_in(*names));
    result_.sequence = applied_;
    return {};
  }
  Recovery take() {
    result_.state.settle_decoded_bodies();
    return std::move(result_);
  }

 private:
  void remove_leftovers(const std::vector<std::string>& names) {
    const auto found = [&](std::string_view name) {
      return std::find(names.begin(), names.end(), name) != names.end();
    };
    // An unfinished snapshot: the previous one (or the log) is still complete.
    if (found(frame::kSnapshotTempName)) (void)env_.remove(join_path(dir_, frame::kSnapshotTempName));
    // A segment file kept for reuse holds nothing needed; after a restart its
    // pages are likely out of the cache, so the next segment is a new file.
    if (found(frame::kSpareSegmentName)) (void)env_.remove(join_path(dir_, frame::kSpareSegmentName));
  }

  void load_snapshot(const std::vector<std::string>& names) {
    if (std::find(names.begin(), names.end(), frame::kSnapshotName) == names.end()) return;
    result_.report.snapshot_found = true;
    auto bytes = env_.read_all(join_path(dir_, frame::kSnapshotName));
    SnapshotReadResult snapshot;
    if (bytes) snapshot = read_snapshot(*bytes, result_.state);
    result_.report.snapshot_records = snapshot.records;
    if (snapshot.sequence) {
      applied_ = *snapshot.sequence;
      baseline_known_ = true;
    }
    remember_captures(std::move(snapshot.captured_after));
    if (snapshot.complete) return;
    result_.report.snapshot_damaged = true;
    log::error("store: snapshot {} is damaged (read {} records before offset {}); using what is valid",
               join_path(dir_, frame::kSnapshotName), snapshot.records, snapshot.damage_offset);
    set_aside(std::string(frame::kSnapshotName));
  }

  void remember_captures(std::unordered_map<std::string, Sequence> captured) {
    captured_after_ = std::move(captured);
    for (const auto& [client_id, sequence] : captured_after_) last_capture_ = std::max(last_capture_, sequence);
  }

  // A record about a session that the snapshot captured after this record
  // was written: the snapshot holds its effect already, and applying it
  // again could be wrong (a queue_push would queue the message twice).
  bool in_snapshot_already(const Record& record, Sequence sequence) const {
    if (sequence > last_capture_) return false;
    auto client_id = client_id_of(record);
    if (!client_id) return false;
    auto captured = captured_after_.find(std::string(*client_id));
    return captured != captured_after_.end() && captured->second >= sequence;
  }

  // A message_put_inflight is a body and a record about a session: the
  // body is always applied (records after it in the batch may refer to it),
  // the push only when the snapshot does not hold it already.
  void add_unless_in_snapshot(Record record, Sequence sequence, std::vector<Record>& batch) const {
    if (auto* fused = std::get_if<record::MessagePutInflight>(&record)) {
      batch.emplace_back(std::move(fused->body));
      Record push(std::move(fused->push));
      if (!in_snapshot_already(push, sequence)) batch.push_back(std::move(push));
      return;
    }
    if (!in_snapshot_already(record, sequence)) batch.push_back(std::move(record));
  }

  static std::vector<std::pair<Sequence, std::string>> segments_in(const std::vector<std::string>& names) {
    std::vector<std::pair<Sequence, std::string>> segments;
    for (const std::string& name : names) {
      if (auto first = frame::parse_segment_name(name)) segments.emplace_back(*first, name);
    }
    std::sort(segments.begin(), segments.end());
    return segments;
  }

  void replay_segments(const std::vector<std::pair<Sequence, std::string>>& segments) {
    bool after_gap = false;
    for (size_t i = 0; i < segments.size(); ++i) {
      const std::string& name = segments[i].second;
      if (after_gap) {
        set_aside(name);
        continue;
      }
      const bool last = i + 1 == segments.size();
      const Sequence next_first = last ? 0 : segments[i + 1].first;
      after_gap = replay_file(segments[i].first, name, last, next_first) == Outcome::gap;
    }
  }

  Outcome replay_file(Sequence named_first, const std::string& name, bool last, Sequence next_first) {
    auto bytes = env_.read_all(join_path(dir_, name));
    if (!bytes) {
      log::error("store: cannot read log segment: {}", bytes.error().message);
      set_aside(name);
      return Outcome::corrupt;
    }
    ++result_.report.segments_read;
    const auto header = frame::parse_segment_header(*bytes);
    if (reused_under_old_name(header, named_first)) {
      log::notice("store: {} is a log file that was being reused when the store stopped; not read", name);
      result_.old_segments.push_back(name);
      return Outcome::clean;
    }
    SegmentResult segment = replay(*bytes, header);
    // An interrupted write leaves damage at the end of the newest segment, or
    // of an older one that a later segment already continues.
    if (segment.maybe_torn && (last || next_first == applied_ + 1)) segment.outcome = Outcome::torn;
    report(name, segment, bytes->size());
    return segment.outcome;
  }

  void report(const std::string& name, const SegmentResult& segment, size_t size) {
    const size_t dropped = size - segment.valid_bytes;
    result_.report.dropped_bytes += dropped;
    switch (segment.outcome) {
      case Outcome::clean:
        result_.old_segments.push_back(name);
        return;
      case Outcome::torn:
        // Bytes that were never acknowledged, almost always; the file is kept
        // aside all the same, since a flipped length field looks the same.
        ++result_.report.torn_tails;
        log::warning("store: dropped a torn tail of {} bytes from log segment {}", dropped, name);
        set_aside(name);
        return;
      case Outcome::corrupt:
        log::error("store: log segment {} is damaged at offset {}; {} bytes after it are not applied", name,
                   segment.valid_bytes, dropped);
        set_aside(name);
        return;
      case Outcome::gap:
        log::error(
            "store: log segment {} does not continue the log at sequence {}; it and later segments "
            "are not applied",
            name, applied_ + 1);
        set_aside(name);
        return;
    }
  }

  // A reused file whose new header is in place but whose rename to the new
  // segment's name a crash undid (SegmentLog::roll syncs the header, then the
  // directory): it still carries an older segment's name, and nothing in it
  // was synced after the header. Its old contents were obsolete before.
  static bool reused_under_old_name(const std::optional<frame::SegmentHeader>& header, Sequence named_first) {
    return header && header->salted && header->first > named_first;
  }

  SegmentResult replay(std::string_view bytes, const std::optional<frame::SegmentHeader>& header) {
    // Sequences start at 1: a segment claiming 0 was not written by a store.
    if (!header || header->first == 0) return damaged_header(bytes);
    if (!baseline_known_) {
      applied_ = header->first - 1;
      baseline_known_ = true;
    }
    if (header->first > applied_ + 1) return SegmentResult{Outcome::gap, 0, false};
    return replay_frames(bytes, *header);
  }

  static SegmentResult damaged_header(std::string_view bytes) {
    // A segment whose creation was cut short has a partial or zeroed header.
    const size_t header_size =
        bytes.starts_with(frame::kSaltedSegmentMagic) ? frame::kSaltedHeaderSize : frame::kFileHeaderSize;
    const bool torn = bytes.size() < header_size || all_zero(bytes);
    return SegmentResult{Outcome::corrupt, 0, torn};
  }

  SegmentResult replay_frames(std::string_view bytes, const frame::SegmentHeader& header) {
    const std::string_view frames = bytes.substr(header.size);
    frame::Reader reader(frames, frame::Reader::Check::crc, header.seed);
    std::vector<Record> batch;
    Sequence expected = header.first;
    size_t batch_start = 0;  // reader offset after the last complete batch
    frame::Frame frame;
    frame::ReadStatus status;
    while ((status = reader.next(frame)) == frame::ReadStatus::ok) {
      if (frame.sequence != expected++) break;
      if (frame.sequence <= applied_) {
        // Already in the snapshot.
        batch_start = reader.offset();
        continue;
      }
      auto record = decode_payload(frame.type, frame.payload);
      if (!record) break;
      add_unless_in_snapshot(std::move(*record), frame.sequence, batch);
      if (!frame.batch_end) continue;
      apply_batch(batch, frame.sequence);
      batch_start = reader.offset();
    }
    const bool open_batch = reader.offset() != batch_start;
    if (header.salted && ends_records(frames, status, reader.offset(), expected, header.seed)) {
      // A frame that claims the sequence that was due is one this segment
      // began: a write cut short by a crash (or the last frame damaged).
      const bool torn = open_batch || frame::sequence_at(frames, reader.offset()) == expected;
      return SegmentResult{torn ? Outcome::torn : Outcome::clean, header.size + batch_start, torn};
    }
    return classify(bytes, status, header.size + batch_start, header.size + reader.offset(), open_batch);
  }

  // In a salted segment the file may go on with bytes of its former life
  // after the last record written. The records end where the reader stopped
  // at an invalid frame, unless a valid frame of this segment (this salt, a
  // later sequence) starts within kReusedScanBytes after it: damage then, as
  // in an unsalted segment.
  static constexpr size_t kReusedScanBytes = 16 << 20;
  static bool ends_records(std::string_view frames, frame::ReadStatus status, size_t stop, Sequence expected,
                           uint32_t seed) {
    if (status != frame::ReadStatus::corrupt && status != frame::ReadStatus::truncated) return false;
    const size_t end = frames.size() < frame::kHeaderSize ? 0 : frames.size() - frame::kHeaderSize;
    const size_t last_start = std::min(end, stop + kReusedScanBytes);
    for (size_t at = stop + 1; at <= last_start; ++at) {
      if (frame::valid_frame_at(frames, at, seed, expected)) return false;
    }
    return true;
  }

  void apply_batch(std::vector<Record>& batch, Sequence last) {
    for (const Record& record : batch) result_.state.apply(record);
    result_.state.end_batch();
    result_.report.log_records += batch.size();
    applied_ = last;
    batch.clear();
  }

  // What stopped the replay. Torn: whole frames of an unfinished batch, a
  // frame cut off by the end of the file, or a zeroed tail (blocks a file
  // system allocated but never wrote); the marks of an interrupted write.
  static SegmentResult classify(std::string_view bytes, frame::ReadStatus status, size_t valid_bytes,
                                size_t damage_at, bool open_batch) {
    if (status == frame::ReadStatus::end && !open_batch)
      return SegmentResult{Outcome::clean, valid_bytes, false};
    const bool torn = status == frame::ReadStatus::end || status == frame::ReadStatus::truncated ||
                      (status == frame::ReadStatus::corrupt && all_zero(bytes.substr(damage_at)));
    return SegmentResult{Outcome::corrupt, valid_bytes, torn};
  }

  void set_aside(const std::string& name) {
    const std::string aside = name + ".corrupt-" + std::to_string(now_);
    if (auto status = env_.rename(join_path(dir_, name), join_path(dir_, aside)); !status) {
      log::error("store: cannot set aside damaged file: {}", status.error().message);
      return;
    }
    log::notice("store: damaged file {} renamed to {}", join_path(dir_, name), aside);
    result_.report.set_aside.push_back(aside);
  }

  Env& env_;
  std::string dir_;
  WallMs now_;
  Recovery result_;
  Sequence applied_ = 0;
  bool baseline_known_ = false;
  // From the snapshot: sessions captured after its sequence (see in_snapshot_already()).
  std::unordered_map<std::string, Sequence> captured_after_;
  Sequence last_capture_ = 0;
};

}  // namespace

Result<Recovery, IoError> recover(Env& env, const std::string& dir, WallMs now) {
  Recoverer recoverer(env, dir, now);
  if (auto status = recoverer.run(); !status) return fail(status.error());
  return recoverer.take();
}

}  // namespace stellwerk::store

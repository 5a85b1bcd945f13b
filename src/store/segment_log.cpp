// Segment files. A segment may be created under the name of an old one that
// recovery found empty or torn (its first record was never complete);
// remove_old_segments() then leaves the new file alone.
#include "store/segment_log.h"

#include <algorithm>
#include <random>
#include <utility>

#include "base/log.h"
#include "store/frame.h"

namespace stellwerk::store {

IoStatus SegmentLog::start_segment(Sequence first) {
  IoResult<Rolled> rolled = roll(first);
  if (!rolled) return fail(rolled.error());
  return rolled->settle();
}

namespace {

uint64_t random_salt() {
  static thread_local std::mt19937_64 generator{std::random_device{}()};
  return generator();
}

}  // namespace

IoResult<SegmentLog::Rolled> SegmentLog::roll(Sequence first) {
  std::unique_ptr<WritableFile> previous = std::move(file_);
  if (previous) {
    old_.push_back(current_);
    last_closed_ = Closed{current_, bytes_};
  }
  current_ = frame::segment_name(first);
  const uint64_t salt = random_salt();
  const std::string header = frame::salted_segment_header(first, salt);
  auto file = open_segment(header);
  if (!file) return fail(file.error());
  file_ = std::move(*file);
  seed_ = frame::crc_seed(salt);
  bytes_ = header.size();
  unsynced_ = false;  // settle() syncs the header
  return Rolled(env_, dir_, std::move(previous), *file_);
}

IoResult<std::unique_ptr<WritableFile>> SegmentLog::open_segment(const std::string& header) {
  const std::string path = join_path(dir_, current_);
  if (std::exchange(has_spare_, false)) {
    auto reused = reuse_spare(header, path);
    if (reused) return reused;
    log::warning("store: cannot reuse the spare log file, creating a new one: {}", reused.error().message);
    (void)env_.remove(join_path(dir_, frame::kSpareSegmentName));
  }
  auto file = env_.create(path);
  if (!file) return file;
  if (auto status = (*file)->append(header); !status) return fail(status.error());
  return file;
}

IoResult<std::unique_ptr<WritableFile>> SegmentLog::reuse_spare(const std::string& header,
                                                                const std::string& path) {
  // The header goes in before the file takes the segment's name: a crash in
  // between leaves a spare, which recovery does not read.
  const std::string spare = join_path(dir_, frame::kSpareSegmentName);
  auto file = env_.overwrite(spare);
  if (!file) return file;
  if (auto status = (*file)->append(header); !status) return fail(status.error());
  if (auto status = env_.rename(spare, path); !status) return fail(status.error());
  return file;
}

IoStatus SegmentLog::Rolled::settle() {
  // The old segment first: recovery only crosses into a segment from a
  // complete predecessor, so records synced into the new one before the old
  // one's tail would be records it cannot reach.
  if (previous_) {
    if (auto status = previous_->sync(); !status) return status;
    (void)previous_->close();  // its records are in the snapshot that preceded the roll
    previous_.reset();
  }
  if (auto status = current_->sync(); !status) return status;
  // Records synced into the new file later must not be lost with a
  // directory entry that was not.
  return env_->sync_dir(*dir_);
}

IoStatus SegmentLog::append(std::string_view frames) {
  bytes_ += frames.size();
  unsynced_ = true;
  return file_->append(frames);
}

IoStatus SegmentLog::sync() {
  unsynced_ = false;
  return file_->sync();
}

WritableFile& SegmentLog::sync_later() {
  unsynced_ = false;
  return *file_;
}

IoStatus SegmentLog::remove_old_segments() { return remove_segments(take_old_segments()); }

std::vector<std::string> SegmentLog::take_old_segments() {
  std::erase(old_, current_);
  return std::exchange(old_, {});
}

IoStatus SegmentLog::remove_segments(const std::vector<std::string>& names) {
  for (const std::string& name : names) {
    if (keep_as_spare(name)) continue;
    if (auto status = env_.remove(join_path(dir_, name)); !status) return status;
  }
  // Not synced: a removal that is lost leaves a segment whose records are
  // all in the snapshot, which recovery skips.
  return {};
}

bool SegmentLog::keep_as_spare(const std::string& name) {
  // Only a file this run wrote: its size is known and its pages are warm.
  if (has_spare_ || name != last_closed_.name || last_closed_.bytes > spare_limit_) return false;
  if (!env_.rename(join_path(dir_, name), join_path(dir_, frame::kSpareSegmentName))) return false;
  has_spare_ = true;
  return true;
}

void SegmentLog::adopt_old(std::vector<std::string> names) {
  old_.insert(old_.end(), names.begin(), names.end());
}

}  // namespace stellwerk::store

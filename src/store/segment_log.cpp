// Segment files. A segment may be created under the name of an old one that
// recovery found empty or torn (its first record was never complete);
// remove_old_segments() then leaves the new file alone.
#include "store/segment_log.h"

#include <algorithm>
#include <utility>

#include "store/frame.h"

namespace stellwerk::store {

IoStatus SegmentLog::start_segment(Sequence first) {
  IoResult<Rolled> rolled = roll(first);
  if (!rolled) return fail(rolled.error());
  return rolled->settle();
}

IoResult<SegmentLog::Rolled> SegmentLog::roll(Sequence first) {
  std::unique_ptr<WritableFile> previous = std::move(file_);
  if (previous) old_.push_back(current_);
  current_ = frame::segment_name(first);
  auto file = env_.create(join_path(dir_, current_));
  if (!file) return fail(file.error());
  file_ = std::move(*file);
  const std::string header = frame::file_header(frame::kSegmentMagic, first);
  bytes_ = header.size();
  unsynced_ = false;  // settle() syncs the header
  if (auto status = file_->append(header); !status) return fail(status.error());
  return Rolled(env_, dir_, std::move(previous), *file_);
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
    if (auto status = env_.remove(join_path(dir_, name)); !status) return status;
  }
  // Not synced: a removal that is lost leaves a segment whose records are
  // all in the snapshot, which recovery skips.
  return {};
}

void SegmentLog::adopt_old(std::vector<std::string> names) {
  old_.insert(old_.end(), names.begin(), names.end());
}

}  // namespace stellwerk::store

// Segment files. A segment may be created under the name of an old one that
// recovery found empty or torn (its first record was never complete);
// remove_old_segments() then leaves the new file alone.
#include "store/segment_log.h"

#include <algorithm>

#include "store/frame.h"

namespace stellwerk::store {

IoStatus SegmentLog::start_segment(Sequence first) {
  if (file_) {
    (void)file_->close();  // its records are in the snapshot that preceded this call
    old_.push_back(current_);
    file_.reset();
  }
  current_ = frame::segment_name(first);
  auto file = env_.create(join_path(dir_, current_));
  if (!file) return fail(file.error());
  file_ = std::move(*file);
  const std::string header = frame::file_header(frame::kSegmentMagic, first);
  bytes_ = header.size();
  unsynced_ = false;
  if (auto status = file_->append(header); !status) return status;
  if (auto status = file_->sync(); !status) return status;
  return env_.sync_dir(dir_);
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

IoStatus SegmentLog::remove_old_segments() {
  std::erase(old_, current_);
  for (const std::string& name : old_) {
    if (auto status = env_.remove(join_path(dir_, name)); !status) return status;
  }
  old_.clear();
  // Not synced: a removal that is lost leaves a segment whose records are
  // all in the snapshot, which recovery skips.
  return {};
}

void SegmentLog::adopt_old(std::vector<std::string> names) {
  old_.insert(old_.end(), names.begin(), names.end());
}

}  // namespace stellwerk::store

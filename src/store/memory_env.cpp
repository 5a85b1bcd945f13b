// The in-memory Env. Files are shared objects so that a renamed file keeps
// its data and sync state; the durable directory view points at the same
// objects as the live one until they diverge.
#include "store/memory_env.h"

#include <algorithm>

namespace stellwerk::store {
namespace {

Unexpected<IoError> crash_error(std::string_view operation, const std::string& path) {
  return fail(IoError{std::string(operation) + " " + path + ": injected crash"});
}

Unexpected<IoError> missing(std::string_view operation, const std::string& path) {
  return fail(IoError{std::string(operation) + " " + path + ": no such file"});
}

}  // namespace

class MemoryEnv::File final : public WritableFile {
 public:
  File(MemoryEnv& env, FilePtr file, std::string path)
      : env_(env), file_(std::move(file)), path_(std::move(path)) {}
  IoStatus append(std::string_view data) override { return env_.append_to(file_, position_, data, path_); }
  IoStatus sync() override { return env_.sync_file(file_, path_); }
  IoStatus close() override { return {}; }

 private:
  MemoryEnv& env_;
  FilePtr file_;
  std::string path_;
  size_t position_ = 0;  // where the next append writes
};

bool MemoryEnv::allow_operation() {
  if (crash_at_ && operations_ >= *crash_at_) return false;
  ++operations_;
  return true;
}

IoResult<std::unique_ptr<WritableFile>> MemoryEnv::create(const std::string& path) {
  std::lock_guard lock(mutex_);
  if (!allow_operation()) return crash_error("create", path);
  if (!dirs_.count(parent_of(path))) return missing("create", path);
  auto file = std::make_shared<FileData>();
  live_[path] = file;
  return std::unique_ptr<WritableFile>(std::make_unique<File>(*this, file, path));
}

IoResult<std::unique_ptr<WritableFile>> MemoryEnv::overwrite(const std::string& path) {
  std::lock_guard lock(mutex_);
  if (!allow_operation()) return crash_error("open", path);
  auto it = live_.find(path);
  if (it == live_.end()) return missing("open", path);
  return std::unique_ptr<WritableFile>(std::make_unique<File>(*this, it->second, path));
}

IoStatus MemoryEnv::append_to(const FilePtr& file, size_t& position, std::string_view data,
                              const std::string& path) {
  std::lock_guard lock(mutex_);
  if (!allow_operation()) {
    if (torn_ && !torn_done_) write_at(*file, position, data.substr(0, data.size() / 2));
    torn_done_ = true;
    return crash_error("append", path);
  }
  write_at(*file, position, data);
  return {};
}

void MemoryEnv::write_at(FileData& file, size_t& position, std::string_view data) {
  if (position < file.synced) {
    // Overwriting durable bytes: until the next sync a power loss brings them back.
    file.stale = file.data.substr(position, file.synced - position) + file.stale;
    file.synced = position;
  }
  file.data.replace(position, std::min(data.size(), file.data.size() - position), data);
  position += data.size();
  file.written_end = position;
}

IoStatus MemoryEnv::sync_file(const FilePtr& file, const std::string& path) {
  std::lock_guard lock(mutex_);
  if (!allow_operation()) return crash_error("sync", path);
  file->synced = file->data.size();
  file->stale.clear();
  return {};
}

IoResult<std::string> MemoryEnv::read_all(const std::string& path) {
  std::lock_guard lock(mutex_);
  auto it = live_.find(path);
  if (it == live_.end()) return missing("read", path);
  return it->second->data;
}

IoResult<std::vector<std::string>> MemoryEnv::list(const std::string& dir) {
  std::lock_guard lock(mutex_);
  if (!dirs_.count(dir)) return missing("list", dir);
  return names_locked(dir);
}

std::vector<std::string> MemoryEnv::names(const std::string& dir) const {
  std::lock_guard lock(mutex_);
  return names_locked(dir);
}

std::vector<std::string> MemoryEnv::names_locked(const std::string& dir) const {
  std::vector<std::string> result;
  for (const auto& [path, file] : live_) {
    if (parent_of(path) == dir) result.push_back(path.substr(dir.size() + 1));
  }
  return result;
}

IoStatus MemoryEnv::create_dir(const std::string& dir) {
  std::lock_guard lock(mutex_);
  if (!allow_operation()) return crash_error("mkdir", dir);
  for (std::string path = dir; !path.empty(); path = parent_of(path)) dirs_.insert(path);
  return {};
}

IoStatus MemoryEnv::rename(const std::string& from, const std::string& to) {
  std::lock_guard lock(mutex_);
  if (!allow_operation()) return crash_error("rename", from);
  auto it = live_.find(from);
  if (it == live_.end()) return missing("rename", from);
  live_[to] = it->second;
  live_.erase(from);
  return {};
}

IoStatus MemoryEnv::remove(const std::string& path) {
  std::lock_guard lock(mutex_);
  if (!allow_operation()) return crash_error("remove", path);
  if (live_.erase(path) == 0) return missing("remove", path);
  return {};
}

IoStatus MemoryEnv::sync_dir(const std::string& dir) {
  std::lock_guard lock(mutex_);
  if (!allow_operation()) return crash_error("sync_dir", dir);
  std::erase_if(durable_, [&](const auto& entry) { return parent_of(entry.first) == dir; });
  for (const auto& [path, file] : live_) {
    if (parent_of(path) == dir) durable_[path] = file;
  }
  return {};
}

void MemoryEnv::crash_after(size_t operations, bool torn) {
  std::lock_guard lock(mutex_);
  crash_at_ = operations_ + operations;
  torn_ = torn;
  torn_done_ = false;
}

bool MemoryEnv::crashed() const {
  std::lock_guard lock(mutex_);
  return crash_at_ && operations_ >= *crash_at_;
}

size_t MemoryEnv::operations() const {
  std::lock_guard lock(mutex_);
  return operations_;
}

void MemoryEnv::power_loss(Unsynced unsynced) {
  std::lock_guard lock(mutex_);
  crash_at_.reset();
  live_ = durable_;
  for (auto& [path, file] : live_) {
    const size_t unsynced_bytes = std::max(file->written_end, file->synced) - file->synced;
    size_t kept = unsynced_bytes;
    if (unsynced == Unsynced::drop) kept = 0;
    if (unsynced == Unsynced::keep_half) kept = unsynced_bytes / 2;
    const size_t end = file->synced + kept;
    const std::string stale = file->stale.substr(std::min(kept, file->stale.size()));
    file->data.resize(std::min(end, file->data.size()));
    file->data += stale;
    file->synced = file->data.size();
    file->stale.clear();
  }
}

void MemoryEnv::restart_process() {
  std::lock_guard lock(mutex_);
  crash_at_.reset();
}

std::optional<std::string> MemoryEnv::contents(const std::string& path) const {
  std::lock_guard lock(mutex_);
  auto it = live_.find(path);
  if (it == live_.end()) return std::nullopt;
  return it->second->data;
}

void MemoryEnv::set_contents(const std::string& path, std::string data) {
  std::lock_guard lock(mutex_);
  for (std::string dir = parent_of(path); !dir.empty(); dir = parent_of(dir)) dirs_.insert(dir);
  auto file = std::make_shared<FileData>(FileData{std::move(data), 0});
  file->synced = file->data.size();
  live_[path] = file;
  durable_[path] = file;
}

void MemoryEnv::flip_bit(const std::string& path, size_t bit) {
  std::lock_guard lock(mutex_);
  auto it = live_.find(path);
  if (it == live_.end() || bit / 8 >= it->second->data.size()) return;
  it->second->data[bit / 8] = static_cast<char>(it->second->data[bit / 8] ^ (1 << (bit % 8)));
}

std::string MemoryEnv::parent_of(const std::string& path) {
  const size_t slash = path.rfind('/');
  if (slash == std::string::npos || slash == 0) return "";
  return path.substr(0, slash);
}

}  // namespace stellwerk::store

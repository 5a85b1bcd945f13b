// Env on POSIX system calls. Short writes and EINTR are retried here so that
// callers see each append as all-or-error.
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "store/env.h"

namespace stellwerk::store {
namespace {

constexpr size_t kReadStep = 1 << 16;

Unexpected<IoError> io_error(std::string_view operation, const std::string& path) {
  return fail(IoError{std::string(operation) + " " + path + ": " + std::strerror(errno)});
}

class PosixFile final : public WritableFile {
 public:
  PosixFile(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
  ~PosixFile() override {
    if (fd_ >= 0) ::close(fd_);
  }

  IoStatus append(std::string_view data) override {
    while (!data.empty()) {
      const ssize_t written = ::write(fd_, data.data(), data.size());
      if (written < 0 && errno == EINTR) continue;
      if (written < 0) return io_error("write", path_);
      data.remove_prefix(static_cast<size_t>(written));
    }
    return {};
  }

  IoStatus sync() override {
    if (::fdatasync(fd_) != 0) return io_error("fdatasync", path_);
    return {};
  }

  IoStatus close() override {
    const int fd = fd_;
    fd_ = -1;
    if (::close(fd) != 0) return io_error("close", path_);
    return {};
  }

 private:
  int fd_;
  std::string path_;
};

class PosixEnv final : public Env {
 public:
  IoResult<std::unique_ptr<WritableFile>> create(const std::string& path) override {
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) return io_error("open", path);
    // An existing file keeps its old mode through O_TRUNC; state is private.
    if (::fchmod(fd, 0600) != 0) {
      auto error = io_error("chmod", path);
      ::close(fd);
      return error;
    }
    return std::unique_ptr<WritableFile>(std::make_unique<PosixFile>(fd, path));
  }

  IoResult<std::unique_ptr<WritableFile>> overwrite(const std::string& path) override {
    const int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
    if (fd < 0) return io_error("open", path);
    if (::fchmod(fd, 0600) != 0) {
      auto error = io_error("chmod", path);
      ::close(fd);
      return error;
    }
    // Pages the cache dropped come back in the background, not one at a
    // time inside the writes that only partly cover them.
    (void)::posix_fadvise(fd, 0, 0, POSIX_FADV_WILLNEED);
    return std::unique_ptr<WritableFile>(std::make_unique<PosixFile>(fd, path));
  }

  IoResult<std::string> read_all(const std::string& path) override {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return io_error("open", path);
    std::string contents;
    // Read straight into a buffer of the file's size: a snapshot of a large
    // state is hundreds of MiB, and growing a string for it copies it twice.
    struct stat status {};
    if (::fstat(fd, &status) == 0 && status.st_size > 0) contents.resize(static_cast<size_t>(status.st_size));
    size_t filled = 0;
    for (;;) {
      // The file may have grown since fstat; then the rest comes in steps.
      if (filled == contents.size()) contents.resize(filled + kReadStep);
      const ssize_t got = ::read(fd, contents.data() + filled, contents.size() - filled);
      if (got < 0 && errno == EINTR) continue;
      if (got < 0) {
        auto error = io_error("read", path);
        ::close(fd);
        return error;
      }
      if (got == 0) break;
      filled += static_cast<size_t>(got);
    }
    ::close(fd);
    contents.resize(filled);
    return contents;
  }

  IoResult<std::vector<std::string>> list(const std::string& dir) override {
    DIR* handle = ::opendir(dir.c_str());
    if (!handle) return io_error("opendir", dir);
    std::vector<std::string> names;
    while (const dirent* entry = ::readdir(handle)) {
      const std::string_view name = entry->d_name;
      if (name != "." && name != "..") names.emplace_back(name);
    }
    ::closedir(handle);
    return names;
  }

  IoStatus create_dir(const std::string& dir) override {
    for (size_t slash = dir.find('/', 1);; slash = dir.find('/', slash + 1)) {
      const std::string prefix = dir.substr(0, slash);
      if (::mkdir(prefix.c_str(), 0700) != 0 && errno != EEXIST) return io_error("mkdir", prefix);
      if (slash == std::string::npos) break;
    }
    return {};
  }

  IoStatus rename(const std::string& from, const std::string& to) override {
    if (::rename(from.c_str(), to.c_str()) != 0) return io_error("rename", from + " -> " + to);
    return {};
  }

  IoStatus remove(const std::string& path) override {
    if (::unlink(path.c_str()) != 0) return io_error("unlink", path);
    return {};
  }

  IoStatus sync_dir(const std::string& dir) override {
    const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return io_error("open", dir);
    const bool synced = ::fsync(fd) == 0;
    auto error = synced ? IoStatus{} : IoStatus(io_error("fsync", dir));
    ::close(fd);
    return error;
  }
};

}  // namespace

Env& posix_env() {
  static PosixEnv env;
  return env;
}

std::string join_path(const std::string& dir, std::string_view name) {
  std::string path = dir;
  if (!path.empty() && path.back() != '/') path += '/';
  path += name;
  return path;
}

}  // namespace stellwerk::store

#include "base/thread_load.h"

#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <charconv>
#include <string>

namespace stellwerk::base {
namespace {

// Parses the number at the start of `text` and drops it and the space after.
std::optional<uint64_t> take_number(std::string_view& text) {
  uint64_t value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc{}) return std::nullopt;
  text.remove_prefix(static_cast<size_t>(end - text.data()));
  if (!text.empty() && text.front() == ' ') text.remove_prefix(1);
  return value;
}

}  // namespace

std::optional<ThreadLoad> parse_schedstat(std::string_view text) {
  const auto cpu = take_number(text);
  const auto wait = cpu ? take_number(text) : std::nullopt;
  if (!wait) return std::nullopt;
  return ThreadLoad{.cpu_ns = *cpu, .wait_ns = *wait};
}

std::optional<ThreadLoad> thread_load(int tid) {
  const std::string path = "/proc/self/task/" + std::to_string(tid) + "/schedstat";
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  char buffer[128];
  const ssize_t got = ::read(fd, buffer, sizeof buffer);
  ::close(fd);
  if (got <= 0) return std::nullopt;
  return parse_schedstat(std::string_view(buffer, static_cast<size_t>(got)));
}

int this_thread_tid() { return static_cast<int>(::syscall(SYS_gettid)); }

}  // namespace stellwerk::base

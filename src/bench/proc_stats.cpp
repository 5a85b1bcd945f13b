// Parsing /proc/<pid>/stat and /proc/<pid>/status.
#include "bench/proc_stats.h"

#include <unistd.h>

#include <charconv>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "base/thread_load.h"

namespace stellwerk::bench {
namespace {

std::optional<std::string> read_proc_file(int pid, const char* name) {
  const std::string path =
      pid == 0 ? std::string("/proc/self/") + name : "/proc/" + std::to_string(pid) + "/" + name;
  std::ifstream in(path);
  if (!in) return std::nullopt;
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::optional<uint64_t> parse_number(std::string_view text) {
  uint64_t value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end == text.data()) return std::nullopt;
  return value;
}

// The `index`th space-separated field of `text` (0-based).
std::string_view field(std::string_view text, size_t index) {
  size_t start = 0;
  for (size_t i = 0; i < index; ++i) {
    start = text.find(' ', start);
    if (start == std::string_view::npos) return {};
    ++start;
  }
  return text.substr(start, text.find(' ', start) - start);
}

}  // namespace

std::optional<double> parse_cpu_seconds(std::string_view stat_text, long ticks_per_second) {
  // The command name (field 2) is in parentheses and may hold spaces, so count
  // from the last ')': state is field 3, utime field 14, stime field 15.
  const size_t close = stat_text.rfind(')');
  if (close == std::string_view::npos || close + 2 > stat_text.size() || ticks_per_second <= 0) {
    return std::nullopt;
  }
  const std::string_view rest = stat_text.substr(close + 2);
  const auto user = parse_number(field(rest, 11));
  const auto system = parse_number(field(rest, 12));
  if (!user || !system) return std::nullopt;
  return static_cast<double>(*user + *system) / static_cast<double>(ticks_per_second);
}

std::optional<uint64_t> parse_rss_kib(std::string_view status_text) {
  constexpr std::string_view kKey = "VmRSS:";
  size_t at = status_text.find(kKey);
  if (at == std::string_view::npos) return std::nullopt;
  at = status_text.find_first_not_of(" \t", at + kKey.size());
  if (at == std::string_view::npos) return std::nullopt;
  return parse_number(status_text.substr(at));
}

std::optional<double> process_runqueue_wait_seconds(int pid) {
  const std::string tasks = pid == 0 ? "/proc/self/task" : "/proc/" + std::to_string(pid) + "/task";
  std::error_code error;
  uint64_t total = 0;
  for (const auto& task : std::filesystem::directory_iterator(tasks, error)) {
    std::ifstream in(task.path() / "schedstat");
    std::string text;
    std::getline(in, text);
    total += base::parse_schedstat(text).value_or(base::ThreadLoad{}).wait_ns;
  }
  if (error) return std::nullopt;
  return static_cast<double>(total) / 1e9;
}

std::optional<double> process_cpu_seconds(int pid) {
  const auto text = read_proc_file(pid, "stat");
  if (!text) return std::nullopt;
  return parse_cpu_seconds(*text, ::sysconf(_SC_CLK_TCK));
}

std::optional<uint64_t> process_rss_kib(int pid) {
  const auto text = read_proc_file(pid, "status");
  if (!text) return std::nullopt;
  return parse_rss_kib(*text);
}

}  // namespace stellwerk::bench

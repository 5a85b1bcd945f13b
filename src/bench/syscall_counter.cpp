// Running perf or strace beside the benchmark and reading what they wrote.
#include "bench/syscall_counter.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <charconv>
#include <csignal>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <thread>
#include <vector>

extern char** environ;

namespace stellwerk::bench {
namespace {

constexpr auto kStopTimeout = seconds(5);

// Runs argv[0] from PATH with stdin, stdout and stderr on /dev/null.
pid_t spawn_quiet(const std::vector<std::string>& args) {
  std::vector<char*> argv;
  for (const std::string& arg : args) argv.push_back(const_cast<char*>(arg.c_str()));
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  for (int fd = 0; fd <= 2; ++fd) posix_spawn_file_actions_addopen(&actions, fd, "/dev/null", O_RDWR, 0);
  pid_t pid = 0;
  const int error = posix_spawnp(&pid, argv[0], &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  return error == 0 ? pid : -1;
}

// Waits for `pid` up to `timeout`, then kills it. Returns the exit status, or
// -1 when it did not exit by itself.
int wait_bounded(pid_t pid, Duration timeout) {
  const TimePoint deadline = Clock::now() + timeout;
  int status = 0;
  while (Clock::now() < deadline) {
    const pid_t done = ::waitpid(pid, &status, WNOHANG);
    if (done == pid) return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    if (done < 0) return -1;
    std::this_thread::sleep_for(milliseconds(10));
  }
  ::kill(pid, SIGKILL);
  ::waitpid(pid, &status, 0);
  return -1;
}

bool tool_works(const std::vector<std::string>& args) {
  const pid_t pid = spawn_quiet(args);
  return pid > 0 && wait_bounded(pid, kStopTimeout) == 0;
}

bool perf_works() { return tool_works({"perf", "stat", "-x", ",", "-e", "raw_syscalls:sys_enter", "true"}); }
bool strace_works() { return tool_works({"strace", "-c", "-o", "/dev/null", "true"}); }

std::string temp_path() {
  char path[] = "/tmp/stellwerk-bench-syscalls-XXXXXX";
  const int fd = ::mkstemp(path);
  if (fd < 0) return {};
  ::close(fd);
  return path;
}

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::vector<std::string_view> split(std::string_view text, char separator) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  while (true) {
    const size_t end = text.find(separator, start);
    parts.push_back(text.substr(start, end - start));
    if (end == std::string_view::npos) return parts;
    start = end + 1;
  }
}

template <typename T>
std::optional<T> parse(std::string_view text) {
  while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
  T value{};
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end == text.data()) return std::nullopt;
  return value;
}

}  // namespace

std::unique_ptr<SyscallCounter> SyscallCounter::start(int pid, SyscallCounting how, std::string& why) {
  bool use_perf = how == SyscallCounting::perf || (how == SyscallCounting::automatic && perf_works());
  bool use_strace =
      !use_perf && (how == SyscallCounting::strace || (how == SyscallCounting::automatic && strace_works()));
  if (!use_perf && !use_strace) {
    why = how == SyscallCounting::off ? "not requested" : "neither perf nor strace can count here";
    return nullptr;
  }
  std::string path = temp_path();
  const std::string target = std::to_string(pid);
  const std::vector<std::string> args =
      use_perf
          ? std::vector<std::string>{"perf", "stat", "-x", ",", "-I", "100", "-e", "raw_syscalls:sys_enter",
                                     "-p",   target, "-o", path}
          : std::vector<std::string>{"strace", "-c", "-f", "-p", target, "-o", path};
  const pid_t tool_pid = path.empty() ? -1 : spawn_quiet(args);
  if (tool_pid <= 0) {
    why = use_perf ? "perf could not be started" : "strace could not be started";
    if (!path.empty()) ::unlink(path.c_str());
    return nullptr;
  }
  return std::unique_ptr<SyscallCounter>(new SyscallCounter(tool_pid, std::move(path), use_perf));
}

SyscallCounter::SyscallCounter(pid_t tool_pid, std::string output_path, bool perf)
    : tool_pid_(tool_pid), output_path_(std::move(output_path)), perf_(perf), started_(Clock::now()) {}

SyscallCounter::~SyscallCounter() {
  if (tool_pid_ > 0) (void)stop();
}

std::optional<double> SyscallCounter::stop() {
  if (tool_pid_ <= 0) return std::nullopt;
  const double seconds_counted = std::chrono::duration<double>(Clock::now() - started_).count();
  ::kill(tool_pid_, SIGINT);
  wait_bounded(tool_pid_, kStopTimeout);
  tool_pid_ = -1;
  const std::string text = read_text(output_path_);
  ::unlink(output_path_.c_str());
  if (perf_) return perf_interval_rate(text);
  const auto calls = strace_total_calls(text);
  if (!calls || seconds_counted <= 0) return std::nullopt;
  return static_cast<double>(*calls) / seconds_counted;
}

std::optional<double> perf_interval_rate(std::string_view csv) {
  double last_timestamp = 0;
  uint64_t total = 0;
  bool any = false;
  for (std::string_view line : split(csv, '\n')) {
    if (line.empty() || line.front() == '#') continue;
    const std::vector<std::string_view> fields = split(line, ',');
    if (fields.size() < 2) continue;
    const auto timestamp = parse<double>(fields[0]);
    if (!timestamp) continue;
    last_timestamp = *timestamp;
    // "<not counted>" after the process is gone adds nothing.
    if (const auto count = parse<uint64_t>(fields[1])) {
      total += *count;
      any = true;
    }
  }
  if (!any || last_timestamp <= 0) return std::nullopt;
  return static_cast<double>(total) / last_timestamp;
}

std::optional<uint64_t> strace_total_calls(std::string_view summary) {
  // Columns are right-aligned under the header, so the calls figure of the
  // total line ends where the "calls" heading ends (errors may be blank).
  size_t header_end = std::string_view::npos;
  for (std::string_view line : split(summary, '\n')) {
    const size_t heading = line.find("calls ");
    if (line.find("% time") != std::string_view::npos && heading != std::string_view::npos) {
      header_end = heading + 5;
      continue;
    }
    if (header_end == std::string_view::npos || line.find(" total") == std::string_view::npos) continue;
    if (line.size() < header_end) return std::nullopt;
    const std::string_view head = line.substr(0, header_end);
    const size_t start = head.find_last_of(' ');
    return parse<uint64_t>(start == std::string_view::npos ? head : head.substr(start + 1));
  }
  return std::nullopt;
}

}  // namespace stellwerk::bench

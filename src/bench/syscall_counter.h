// Counts another process's system calls over a window, with the tool that
// works here: `perf stat -e raw_syscalls:sys_enter` (cheap: the kernel counts)
// or, failing that, `strace -c -f` (slow: it stops the process on every call,
// so keep its window short and its figure approximate).
//
// The result is a rate (calls per second) rather than a count: perf needs a
// moment to attach and we cannot see exactly when, but in a steady state the
// rate over perf's own intervals is exact, and dividing it by the delivery
// rate gives system calls per message.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "base/clock.h"
#include "bench/options.h"

namespace stellwerk::bench {

class SyscallCounter {
 public:
  // Starts counting `pid`'s calls. nullptr when no tool works (`how` off, not
  // installed, or not permitted); `why` then says which.
  static std::unique_ptr<SyscallCounter> start(int pid, SyscallCounting how, std::string& why);
  ~SyscallCounter();
  SyscallCounter(const SyscallCounter&) = delete;
  SyscallCounter& operator=(const SyscallCounter&) = delete;

  // Stops the tool and returns calls per second over the window it saw.
  std::optional<double> stop();
  const char* tool() const { return perf_ ? "perf" : "strace"; }

 private:
  SyscallCounter(pid_t tool_pid, std::string output_path, bool perf);

  pid_t tool_pid_;
  std::string output_path_;
  bool perf_;
  TimePoint started_;
};

// Calls per second from the CSV that `perf stat -x , -I <ms>` writes: the sum
// of the interval counts over the last interval's timestamp.
std::optional<double> perf_interval_rate(std::string_view csv);
// The "calls" figure of the "total" line of `strace -c`.
std::optional<uint64_t> strace_total_calls(std::string_view summary);

}  // namespace stellwerk::bench

// What /proc says about a process: CPU time used so far (user + system, all
// threads, dead ones included), resident memory, and time spent runnable but
// waiting for a CPU. The broker's figures per delivered message are made from
// two samples of these; the wait shows whether other work on the machine
// competed with the run.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace stellwerk::bench {

// utime + stime in seconds from the text of /proc/<pid>/stat.
std::optional<double> parse_cpu_seconds(std::string_view stat_text, long ticks_per_second);
// VmRSS in KiB from the text of /proc/<pid>/status.
std::optional<uint64_t> parse_rss_kib(std::string_view status_text);

// nullopt when the process is gone or /proc cannot be read. pid 0 = this process.
std::optional<double> process_cpu_seconds(int pid);
std::optional<uint64_t> process_rss_kib(int pid);
// Seconds the process's live threads have spent waiting for a CPU: how much
// other work on the machine held it back (threads that ended are not counted).
std::optional<double> process_runqueue_wait_seconds(int pid);

}  // namespace stellwerk::bench

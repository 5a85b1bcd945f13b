// What the kernel's scheduler says of one thread: time on a core and time
// runnable but waiting for one (/proc/<pid>/task/<tid>/schedstat). A thread
// that waits while it could run shows that the machine's cores are busy.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace stellwerk::base {

struct ThreadLoad {
  uint64_t cpu_ns = 0;   // on a core, so far
  uint64_t wait_ns = 0;  // runnable, waiting for a core, so far
};

// The first two figures of a schedstat file's text.
std::optional<ThreadLoad> parse_schedstat(std::string_view text);
// A thread of this process, by its kernel id (gettid); nullopt once it is gone.
std::optional<ThreadLoad> thread_load(int tid);
// The calling thread's kernel id.
int this_thread_tid();

}  // namespace stellwerk::base

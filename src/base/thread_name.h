// Names the calling thread, as `top -H`, `perf` and /proc/<pid>/task/*/comm
// show it, so that a profile or a CPU pinning can tell the broker's threads
// apart (bench/persistence pins the store's threads by these names).
#pragma once

#include <pthread.h>

#include <string>

namespace stellwerk {

// Linux keeps at most 15 characters; a longer name is cut there.
inline void name_this_thread(const std::string& name) {
  (void)pthread_setname_np(pthread_self(), name.substr(0, 15).c_str());
}

}  // namespace stellwerk

// SCHED_BATCH for the snapshot thread (see background.h).
#include "store/background.h"

#include <sched.h>

namespace stellwerk::store {

void run_in_batches() {
#if defined(__linux__) && defined(SCHED_BATCH)
  const sched_param param{};
  // pid 0: the calling thread. Leaving SCHED_OTHER for SCHED_BATCH needs no privilege.
  (void)sched_setscheduler(0, SCHED_BATCH, &param);
#endif
}

}  // namespace stellwerk::store

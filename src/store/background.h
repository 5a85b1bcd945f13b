// Scheduling of the store's own threads. The store thread and the snapshot
// thread wake for every group commit; on a machine where they share a core
// with the broker's worker, a normal thread that wakes up preempts the
// worker at once, in the middle of its loop turn and often while it holds
// the broker's lock. As SCHED_BATCH threads they wait for the worker's turn
// to end (or its time slice), find more work when they run, and switch less.
#pragma once

namespace stellwerk::store {

// Makes the calling thread a SCHED_BATCH thread; on failure (not Linux, or
// a policy that forbids it) it stays as it was: this is a hint.
void run_in_batches();

}  // namespace stellwerk::store

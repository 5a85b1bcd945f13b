// Scheduling of the snapshot thread. It applies every written group to the
// mirror; on a machine where it shares a core with the broker's worker, a
// normal thread that wakes up preempts the worker at once, in the middle of
// its loop turn and often while it holds the broker's lock. As a SCHED_BATCH
// thread it waits for the worker's turn to end (or its time slice), finds
// more work when it runs, and switches less. Not for the store thread: an
// acknowledgement waits for it, and as a SCHED_BATCH thread on a busy
// machine it waited a time slice per commit (SnapshotStall: p50 0.14 ->
// 12 ms under policy always).
#pragma once

namespace stellwerk::store {

// Makes the calling thread a SCHED_BATCH thread; on failure (not Linux, or
// a policy that forbids it) it stays as it was: this is a hint.
void run_in_batches();

}  // namespace stellwerk::store

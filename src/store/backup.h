// Online backups: a copy of the store's directory as it would look right
// after Store::open, written somewhere else while the broker runs.
//
// A backup is one snapshot at a sequence S that was durable in the live store
// when the backup was taken, plus a log segment that starts at S + 1 (empty,
// or for a snapshot taken in slices the records up to the last slice's
// capture and possibly more), so a fresh broker whose persistence_location
// is the backup directory recovers exactly that state and numbers its next
// record after it. Everything
// is synced (files, the directory and its parent) before the backup counts
// as done. A directory that already holds anything is refused: mixing a
// backup with other store files would make a state nobody ever had.
#pragma once

#include <string>

#include "store/env.h"
#include "store/state.h"

namespace stellwerk::store {

// Creates `dir` (mode 0700) if missing and writes the backup of `state` at
// `sequence` into it. Fails when `dir` is not empty or a file operation fails;
// a failed backup may leave partial files behind.
IoStatus write_backup(Env& env, const std::string& dir, const State& state, Sequence sequence);

// The same from a live store whose snapshots are taken in slices: copies its
// "state.snap" and the first `segment_bytes` of its segment `segment` (the
// one that starts right after the snapshot's sequence; that many bytes hold
// whole batches, at least up to every slice's capture) into `dir`.
IoStatus copy_backup(Env& env, const std::string& store_dir, const std::string& dir, const std::string& segment,
                     uint64_t segment_bytes);

}  // namespace stellwerk::store

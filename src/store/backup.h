// Online backups: a copy of the store's directory as it would look right
// after Store::open, written somewhere else while the broker runs.
//
// A backup is one snapshot at a sequence S that was durable in the live store
// when the backup was taken, plus an empty log segment that starts at S + 1,
// so a fresh broker whose persistence_location is the backup directory
// recovers exactly that state and numbers its next record S + 1. Everything
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

}  // namespace stellwerk::store

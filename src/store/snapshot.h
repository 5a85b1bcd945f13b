// Snapshots: the whole state as records in one file, "state.snap".
//
//   file = header(magic "STWSNP01", sequence) | frame* | frame(snapshot_end)
//
// The header's sequence is the last log record the snapshot includes. A
// snapshot is written to "state.snap.tmp", synced, renamed over the old one
// and the directory synced, so a crash leaves either the old or the new
// snapshot, never a mix.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "store/env.h"
#include "store/state.h"

namespace stellwerk::store {

IoStatus write_snapshot(Env& env, const std::string& dir, const State& state, Sequence sequence);

struct SnapshotReadResult {
  std::optional<Sequence> sequence;  // nullopt: the header is damaged
  bool complete = false;             // every frame valid and the end record present
  size_t records = 0;                // records applied
  size_t damage_offset = 0;          // where reading stopped when not complete
};

// Applies the snapshot's valid records to `state`, stopping at the first
// damage: a damaged snapshot still yields what it holds before the damage.
SnapshotReadResult read_snapshot(std::string_view bytes, State& state);

}  // namespace stellwerk::store

// Recovery: the snapshot, then the log segments in sequence order, applied
// batch by batch. Damage never stops a start: reading stops at the first bad
// frame, the valid prefix is kept, and the file is either dropped as a torn
// tail (an interrupted last write) or renamed aside as
// "<name>.corrupt-<unix ms>" for a person to look at. Segments after a gap
// in the sequence are renamed aside too: their records would apply to a
// state that misses the lost ones.
#pragma once

#include <string>
#include <vector>

#include "store/env.h"
#include "store/state.h"

namespace stellwerk::store {

struct RecoveryReport {
  bool snapshot_found = false;
  bool snapshot_damaged = false;
  size_t snapshot_records = 0;
  size_t segments_read = 0;
  size_t log_records = 0;              // log records applied
  size_t torn_tails = 0;               // segments whose tail was dropped as torn
  size_t dropped_bytes = 0;            // bytes of log not applied (torn or damaged)
  std::vector<std::string> set_aside;  // new names of the damaged files
};

struct Recovery {
  State state;
  Sequence sequence = 0;  // the last record applied (from the snapshot or the log)
  RecoveryReport report;
  // Segment files that hold nothing beyond `sequence`: to be removed once a
  // new snapshot is durable.
  std::vector<std::string> old_segments;
};

// Fails only when the directory cannot be listed.
Result<Recovery, IoError> recover(Env& env, const std::string& dir, WallMs now);

}  // namespace stellwerk::store

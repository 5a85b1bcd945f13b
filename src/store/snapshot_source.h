// Where a snapshot of a running broker comes from: the broker's own state,
// a slice at a time, each taken under the broker's lock while the log goes
// on (docs/formats/store.md, "Snapshots taken in slices"). With a source
// attached (Store::attach_source) the store keeps no mirror of the state:
// a snapshot costs work in proportion to the state, not to the traffic.
#pragma once

#include <memory>
#include <optional>

#include "store/batch.h"
#include "store/types.h"

namespace stellwerk::store {

// The records of one slice, in a batch from Store::batch() that is never
// committed (the snapshot writer takes its frames), and the sequence they
// were captured at: every record committed up to it, and none after it, is
// reflected in them.
struct SnapshotSlice {
  Sequence captured_at = 0;
  Batch records;
};

// One walk over the state, from the first slice to the last.
class SnapshotWalk {
 public:
  virtual ~SnapshotWalk() = default;
  // The next slice; each session is whole within one. nullopt when the walk
  // is over.
  virtual std::optional<SnapshotSlice> next() = 0;
  // The walk stopped before its end (the broker is going away): nullopt
  // from next() does not mean the state is complete.
  virtual bool aborted() const = 0;
};

class SnapshotSource {
 public:
  virtual ~SnapshotSource() = default;
  // Called on the snapshot thread for each snapshot and backup.
  virtual std::unique_ptr<SnapshotWalk> walk() = 0;
};

}  // namespace stellwerk::store

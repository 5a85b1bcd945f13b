#include "broker/snapshot_walk.h"

namespace stellwerk::broker {
namespace {

class BrokerWalk : public store::SnapshotWalk {
 public:
  BrokerWalk(store::Store& store, const BrokerSnapshotSource::UnderLock& under_lock)
      : store_(store), under_lock_(under_lock) {}

  std::optional<store::SnapshotSlice> next() override {
    std::optional<store::SnapshotSlice> slice;
    const bool ran = under_lock_([&](Broker& broker) {
      // Records collected for the current loop turns join the log first, so
      // that the state read below is the log's state at `captured_at`.
      broker.commit_records();
      store::SnapshotSlice taken{store_.committed(), store_.batch(store::TimeBase::now())};
      if (broker.snapshot_slice(cursor_, taken.records)) slice = std::move(taken);
    });
    aborted_ = !ran;
    return slice;
  }
  bool aborted() const override { return aborted_; }

 private:
  store::Store& store_;
  const BrokerSnapshotSource::UnderLock& under_lock_;
  Broker::SnapshotCursor cursor_;
  bool aborted_ = false;
};

}  // namespace

std::unique_ptr<store::SnapshotWalk> BrokerSnapshotSource::walk() {
  return std::make_unique<BrokerWalk>(store_, under_lock_);
}

}  // namespace stellwerk::broker

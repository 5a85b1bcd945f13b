// The store's SnapshotSource over a running broker (store/snapshot_source.h):
// each slice is taken under the broker lock, after committing what the
// broker collected, so that the slice reflects exactly the records up to
// the sequence it names.
#pragma once

#include <functional>
#include <memory>

#include "broker/broker.h"
#include "store/snapshot_source.h"
#include "store/store.h"

namespace stellwerk::broker {

class BrokerSnapshotSource : public store::SnapshotSource {
 public:
  // Runs its argument with the broker lock held and returns true, or
  // returns false without running it once the broker is gone.
  using UnderLock = std::function<bool(const std::function<void(Broker&)>&)>;

  // `store` must outlive this.
  BrokerSnapshotSource(store::Store& store, UnderLock under_lock)
      : store_(store), under_lock_(std::move(under_lock)) {}

  std::unique_ptr<store::SnapshotWalk> walk() override;

 private:
  store::Store& store_;
  UnderLock under_lock_;
};

}  // namespace stellwerk::broker

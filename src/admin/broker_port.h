// What the admin module needs from a running broker, and nothing more.
//
// The server implements BrokerPort: each call runs under the broker lock and
// returns, so a long job (listing or deleting a million retained messages) is
// a series of short calls with a cursor, and clients are never stalled for
// more than one chunk. Retained messages travel as mqtt::Publish values with
// retain set and message_expiry_interval holding the seconds still left.
#pragma once

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "base/result.h"
#include "mqtt/packet.h"

namespace stellwerk::admin {

struct RetainedQuery {
  // A valid non-shared topic filter; nullopt = every topic the broker keeps
  // as state ('$' topics included, $SYS excluded).
  std::optional<std::string> filter;
  std::optional<std::string> after;  // return only topics after this one
  size_t limit = 1000;
  bool with_payload = true;  // false: topics only (payload and properties empty)
};

class BrokerPort {
 public:
  virtual ~BrokerPort() = default;
  // Up to query.limit unexpired retained messages in topic order (level by
  // level, each level by bytes), all after query.after.
  virtual std::vector<mqtt::Publish> retained_page(const RetainedQuery& query) = 0;
  // Clears the retained message of each topic as an empty retained PUBLISH
  // would, in the store too. Returns how many topics had one.
  virtual size_t clear_retained(const std::vector<std::string>& topics) = 0;
  // Each message (valid topic name, non-empty payload) becomes its topic's
  // retained message, in the store too.
  virtual void set_retained(std::vector<mqtt::Publish> messages) = 0;
  // Blocks until every change made so far is durable. True without
  // persistence; false when the store failed or took too long.
  virtual bool wait_durable() = 0;
  using BackupDone = std::function<void(Status<std::string>)>;
  // Writes an online backup into `directory` (absolute); `done` may run on
  // another thread, once. Without persistence `done` gets an error at once.
  virtual void backup(std::string directory, BackupDone done) = 0;
};

}  // namespace stellwerk::admin

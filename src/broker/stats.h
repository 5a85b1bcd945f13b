// Counters the broker keeps for $SYS and metrics. Plain integers: the broker
// is serialised by the server, readers copy under the same lock.
#pragma once

#include <cstdint>

namespace stellwerk::broker {

struct Stats {
  uint64_t packets_received = 0;
  uint64_t packets_sent = 0;
  uint64_t bytes_received = 0;
  uint64_t bytes_sent = 0;
  uint64_t publish_received = 0;
  uint64_t publish_sent = 0;
  uint64_t publish_dropped = 0;  // queue full, expired or too large for the client
  uint64_t connections_total = 0;
  uint64_t clients_maximum = 0;
  uint64_t refused_connects = 0;
  uint64_t protocol_errors = 0;
};

}  // namespace stellwerk::broker

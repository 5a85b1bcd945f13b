#include "server/broker_config.h"

#include <algorithm>

namespace stellwerk::server {
namespace {

size_t unlimited_as_zero(int64_t value) { return value <= 0 ? 0 : static_cast<size_t>(value); }

}  // namespace

broker::BrokerConfig make_broker_config(const config::Config& config) {
  broker::BrokerConfig out;
  out.limits.max_packet_size = config.max_packet_size ? config.max_packet_size : config::kDefaultMaxPacketSize;
  out.queue.max_messages = unlimited_as_zero(config.max_queued_messages);
  out.queue.max_bytes = unlimited_as_zero(config.max_queued_bytes);
  out.queue.max_inflight = std::min<size_t>(unlimited_as_zero(config.max_inflight_messages), 65535);
  out.queue.queue_qos0_offline = config.queue_qos0_messages;
  out.max_keepalive = config.max_keepalive;
  out.allow_anonymous = config.effective_allow_anonymous();
  out.retain_available = config.retain_available;
  if (config.persistent_client_expiration >= 0) {
    out.persistent_client_expiration = static_cast<uint32_t>(
        std::min<int64_t>(config.persistent_client_expiration, 0xFFFFFFFE));
  }
  out.sys_interval = config.sys_interval;
  out.connection_messages = config.connection_messages;
  out.version = "stellwerk version " STELLWERK_VERSION;
  return out;
}

}  // namespace stellwerk::server

// The $SYS tree, with mosquitto's topic names so that existing dashboards
// keep working. Values are retained and republished only when they change.
#include "base/log.h"
#include "broker/broker.h"
#include "broker/client.h"
#include "store/store.h"

namespace stellwerk::broker {

void Broker::publish_sys_value(const std::string& topic, std::string value, TimePoint now) {
  auto [it, inserted] = last_sys_values_.try_emplace(topic);
  if (!inserted && it->second == value) return;
  it->second = std::move(value);
  route(session::Message::create(topic, it->second, {.retain = true}), now);
}

void Broker::publish_sys(TimePoint now) {
  const auto uptime = std::chrono::duration_cast<std::chrono::seconds>(now - started_at_).count();
  const size_t connected = online_.size();
  const size_t total = sessions_.size();
  const auto publish = [&](const char* name, auto value) {
    publish_sys_value(std::string("$SYS/broker/") + name, fmt::format("{}", value), now);
  };
  publish("version", config_.version);
  publish("uptime", fmt::format("{} seconds", uptime));
  publish("clients/connected", connected);
  publish("clients/active", connected);
  publish("clients/total", total);
  publish("clients/disconnected", total - connected);
  publish("clients/inactive", total - connected);
  publish("clients/maximum", stats_.clients_maximum);
  publish("messages/received", stats_.packets_received);
  publish("messages/sent", stats_.packets_sent);
  publish("messages/stored", retained_.size());
  publish("store/messages/count", retained_.size());
  publish("publish/messages/received", stats_.publish_received);
  publish("publish/messages/sent", stats_.publish_sent);
  publish("publish/messages/dropped", stats_.publish_dropped);
  publish("bytes/received", stats_.bytes_received);
  publish("bytes/sent", stats_.bytes_sent);
  publish("subscriptions/count", subscriptions_.size());
  publish("retained messages/count", retained_.size());
  if (store_) publish_store_sys(now);
}

void Broker::publish_store_sys(TimePoint now) {
  // Stellwerk's own: how the durable store keeps up (no mosquitto equivalent).
  const store::StoreStats stats = store_->stats();
  const auto publish = [&](const char* name, uint64_t value) {
    publish_sys_value(std::string("$SYS/broker/persistence/") + name, fmt::format("{}", value), now);
  };
  publish("records", stats.records);
  publish("writes", stats.writes);
  publish("syncs", stats.syncs);
  publish("snapshots", stats.snapshots);
  publish("log bytes", stats.log_bytes);
}

}  // namespace stellwerk::broker

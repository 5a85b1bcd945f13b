// Retained-state administration for `stellwerk ctl`: paging through the
// retained tree in topic order, and setting or clearing retained messages
// outside any client's PUBLISH. Changes go through update_retained(), the
// path a client's retained PUBLISH takes, so the store logs them the same
// way; unlike a PUBLISH they are not routed to current subscribers, because
// an operator restoring or pruning state is not publishing news.
#include <algorithm>
#include <chrono>

#include "broker/broker.h"

namespace stellwerk::broker {
namespace {

// $SYS values are the broker's own, rebuilt every sys_interval: not state.
bool is_sys_topic(std::string_view topic) { return topic.starts_with("$SYS"); }

mqtt::Publish to_publish(const session::Message& message, bool with_payload, TimePoint now) {
  mqtt::Publish publish;
  publish.topic = message.topic();
  publish.retain = true;
  publish.qos = message.qos();
  if (!with_payload) return publish;
  publish.payload = message.payload();
  publish.properties = message.properties();
  publish.properties.message_expiry_interval.reset();
  if (message.expires_at()) {
    const auto left = std::chrono::ceil<std::chrono::seconds>(*message.expires_at() - now).count();
    publish.properties.message_expiry_interval = static_cast<uint32_t>(std::max<int64_t>(left, 1));
  }
  return publish;
}

}  // namespace

std::vector<mqtt::Publish> Broker::retained_page(const std::optional<std::string>& filter,
                                                 const std::optional<std::string>& after, size_t limit,
                                                 bool with_payload, TimePoint now) const {
  std::vector<mqtt::Publish> page;
  if (limit == 0) return page;
  const bool all_state = !filter.has_value();
  std::optional<std::string_view> cursor;
  if (after) cursor = *after;
  retained_.match_after(all_state ? std::string_view("#") : std::string_view(*filter), cursor, all_state,
                        [&](std::string_view topic, const session::MessagePtr& message) {
                          if (message->expired(now) || (all_state && is_sys_topic(topic))) return true;
                          page.push_back(to_publish(*message, with_payload, now));
                          return page.size() < limit;
                        });
  return page;
}

size_t Broker::clear_retained(const std::vector<std::string>& topics) {
  size_t cleared = 0;
  for (const std::string& topic : topics) {
    if (retained_.find(topic) == nullptr) continue;
    update_retained(session::Message::create(topic, {}, {.retain = true}));
    ++cleared;
  }
  commit_batch();
  return cleared;
}

void Broker::set_retained(std::vector<mqtt::Publish> messages, TimePoint now) {
  for (mqtt::Publish& publish : messages) {
    update_retained(session::make_message(publish.topic, publish.payload, publish.qos, true, &publish.properties, now, 0));
  }
  commit_batch();
}

}  // namespace stellwerk::broker

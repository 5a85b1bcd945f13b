// Topic alias tables (see topic_alias.h).
#include "client/topic_alias.h"

namespace stellwerk::client {

void OutgoingTopicAliases::reset(uint16_t maximum) {
  maximum_ = maximum;
  aliases_.clear();
}

void OutgoingTopicAliases::apply(mqtt::Publish& publish) {
  // A caller that set its own alias knows what it is doing; leave it alone.
  if (maximum_ == 0 || publish.properties.topic_alias || publish.topic.empty()) return;
  auto found = aliases_.find(publish.topic);
  if (found != aliases_.end()) {
    publish.properties.topic_alias = found->second;
    publish.topic.clear();
    return;
  }
  if (aliases_.size() >= maximum_) return;
  const auto alias = static_cast<uint16_t>(aliases_.size() + 1);
  aliases_.emplace(publish.topic, alias);
  publish.properties.topic_alias = alias;
}

void IncomingTopicAliases::reset(uint16_t maximum) {
  topics_.assign(static_cast<size_t>(maximum) + 1, std::string());
}

Status<mqtt::ReasonCode> IncomingTopicAliases::resolve(mqtt::Publish& publish) {
  if (!publish.properties.topic_alias) {
    if (publish.topic.empty()) return fail(mqtt::ReasonCode::protocol_error);
    return {};
  }
  const uint16_t alias = *publish.properties.topic_alias;
  // Alias 0 is never valid [MQTT-3.3.2-8]; above our maximum the server broke [MQTT-3.3.2-11].
  if (alias == 0 || alias >= topics_.size()) return fail(mqtt::ReasonCode::topic_alias_invalid);
  if (!publish.topic.empty()) {
    topics_[alias] = publish.topic;
    return {};
  }
  if (topics_[alias].empty()) return fail(mqtt::ReasonCode::protocol_error);
  publish.topic = topics_[alias];
  return {};
}

}  // namespace stellwerk::client

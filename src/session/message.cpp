#include "session/message.h"

namespace stellwerk::session {

MessagePtr make_message(std::string topic, std::string payload, mqtt::QoS qos, bool retain,
                        mqtt::Properties properties, TimePoint now, uint64_t publisher_session) {
  auto message = std::make_shared<Message>();
  message->topic = std::move(topic);
  message->payload = std::move(payload);
  message->qos = qos;
  message->retain = retain;
  properties.topic_alias.reset();
  properties.subscription_identifiers.clear();
  properties.will_delay_interval.reset();
  if (properties.message_expiry_interval) {
    message->expires_at = now + std::chrono::seconds(*properties.message_expiry_interval);
  }
  message->set_properties(std::move(properties));
  message->publisher_session = publisher_session;
  return message;
}

}  // namespace stellwerk::session

// Converting retained messages to and from the admin protocol's JSON. Every
// field read from a request is type-checked first: nlohmann throws on a
// wrong type, and a bad import line must become an error message.
#include "admin/retained_json.h"

#include <fmt/format.h>

#include "base/base64.h"
#include "mqtt/codec.h"
#include "mqtt/validate.h"

namespace stellwerk::admin {
namespace {

using nlohmann::json;

json properties_to_json(const mqtt::Properties& properties) {
  json out = json::object();
  if (properties.payload_format_indicator) out["payload_format_indicator"] = *properties.payload_format_indicator;
  if (properties.message_expiry_interval) out["message_expiry_interval"] = *properties.message_expiry_interval;
  if (properties.content_type) out["content_type"] = *properties.content_type;
  if (properties.response_topic) out["response_topic"] = *properties.response_topic;
  if (properties.correlation_data) out["correlation_data"] = base64_encode(*properties.correlation_data);
  if (!properties.user_properties.empty()) {
    json pairs = json::array();
    for (const mqtt::UserProperty& property : properties.user_properties) {
      pairs.push_back(json::array({property.first, property.second}));
    }
    out["user_properties"] = std::move(pairs);
  }
  return out;
}

template <typename Int>
Status<std::string> read_integer(const json& object, const char* key, uint64_t max, std::optional<Int>& to) {
  if (!object.contains(key)) return {};
  const json& value = object[key];
  if (!value.is_number_unsigned() || value.get<uint64_t>() > max) {
    return fail(fmt::format("\"{}\" must be an integer from 0 to {}", key, max));
  }
  to = static_cast<Int>(value.get<uint64_t>());
  return {};
}

Status<std::string> read_text(const json& object, const char* key, std::optional<std::string>& to) {
  if (!object.contains(key)) return {};
  if (!object[key].is_string() || !mqtt::is_valid_utf8(object[key].get_ref<const std::string&>())) {
    return fail(fmt::format("\"{}\" must be a UTF-8 string", key));
  }
  to = object[key].get<std::string>();
  return {};
}

Status<std::string> read_user_properties(const json& object, std::vector<mqtt::UserProperty>& to) {
  if (!object.contains("user_properties")) return {};
  const json& pairs = object["user_properties"];
  const std::string error = "\"user_properties\" must be a list of [name, value] string pairs";
  if (!pairs.is_array()) return fail(error);
  for (const json& pair : pairs) {
    if (!pair.is_array() || pair.size() != 2 || !pair[0].is_string() || !pair[1].is_string()) return fail(error);
    mqtt::UserProperty property{pair[0].get<std::string>(), pair[1].get<std::string>()};
    if (!mqtt::is_valid_utf8(property.first) || !mqtt::is_valid_utf8(property.second)) return fail(error);
    to.push_back(std::move(property));
  }
  return {};
}

Status<std::string> read_properties(const json& object, mqtt::Properties& to) {
  if (!object.is_object()) return fail(std::string("\"properties\" must be an object"));
  if (auto read = read_integer<uint8_t>(object, "payload_format_indicator", 1, to.payload_format_indicator); !read) {
    return read;
  }
  if (auto read = read_integer<uint32_t>(object, "message_expiry_interval", UINT32_MAX, to.message_expiry_interval);
      !read) {
    return read;
  }
  if (auto read = read_text(object, "content_type", to.content_type); !read) return read;
  if (auto read = read_text(object, "response_topic", to.response_topic); !read) return read;
  if (to.response_topic && !mqtt::is_valid_topic_name(*to.response_topic)) {
    return fail(std::string("\"response_topic\" must be a topic name without wildcards"));
  }
  if (object.contains("correlation_data")) {
    const json& value = object["correlation_data"];
    auto bytes = value.is_string() ? base64_decode_to_string(value.get_ref<const std::string&>()) : std::nullopt;
    if (!bytes) return fail(std::string("\"correlation_data\" must be base64"));
    to.correlation_data = std::move(*bytes);
  }
  return read_user_properties(object, to.user_properties);
}

}  // namespace

json retained_to_json(const mqtt::Publish& message) {
  json out = json::object();
  out["topic"] = message.topic;
  out["payload"] = base64_encode(message.payload);
  out["qos"] = static_cast<int>(message.qos);
  json properties = properties_to_json(message.properties);
  if (!properties.empty()) out["properties"] = std::move(properties);
  return out;
}

Result<mqtt::Publish, std::string> retained_from_json(const json& record) {
  if (!record.is_object()) return fail(std::string("a record must be a JSON object"));
  mqtt::Publish message;
  message.retain = true;
  // A topic and payload no PUBLISH could carry are refused as a client's
  // would be: the stored message's header has room for no more.
  if (!record.contains("topic") || !record["topic"].is_string() ||
      !mqtt::is_valid_topic_name(record["topic"].get_ref<const std::string&>())) {
    return fail(std::string("\"topic\" must be a topic name without wildcards"));
  }
  message.topic = record["topic"].get<std::string>();
  if (message.topic.size() > 0xFFFF) return fail(std::string("\"topic\" is longer than 65,535 bytes"));
  const json* payload = record.contains("payload") ? &record["payload"] : nullptr;
  auto bytes = payload && payload->is_string() ? base64_decode_to_string(payload->get_ref<const std::string&>()) : std::nullopt;
  if (!bytes) return fail(fmt::format("{}: \"payload\" must be base64", message.topic));
  if (bytes->size() > mqtt::kMaxRemainingLength) {
    return fail(fmt::format("{}: \"payload\" is larger than any PUBLISH can be", message.topic));
  }
  message.payload = std::move(*bytes);
  std::optional<uint8_t> qos;
  if (auto read = read_integer<uint8_t>(record, "qos", 2, qos); !read) {
    return fail(fmt::format("{}: {}", message.topic, read.error()));
  }
  message.qos = static_cast<mqtt::QoS>(qos.value_or(0));
  if (record.contains("properties")) {
    if (auto read = read_properties(record["properties"], message.properties); !read) {
      return fail(fmt::format("{}: {}", message.topic, read.error()));
    }
  }
  return message;
}

std::string to_line(const json& value) {
  return value.dump(-1, ' ', false, json::error_handler_t::replace) + "\n";
}

}  // namespace stellwerk::admin

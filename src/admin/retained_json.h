// A retained message as one JSON object: the line format of `retained
// export` and `retained import`, and the body of `retained show`.
//
//   {"topic":"a/b","payload":"aGk=","qos":1,
//    "properties":{"payload_format_indicator":1,"message_expiry_interval":60,
//                  "content_type":"text/plain","response_topic":"r",
//                  "correlation_data":"AAE=","user_properties":[["k","v"]]}}
//
// Payload and correlation data are base64 (they are bytes); the expiry is
// the seconds left when exported. "properties" and each of its members are
// optional on import.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "base/result.h"
#include "mqtt/packet.h"

namespace stellwerk::admin {

nlohmann::json retained_to_json(const mqtt::Publish& message);

// A retained PUBLISH (retain set), or why `record` is not a valid one.
Result<mqtt::Publish, std::string> retained_from_json(const nlohmann::json& record);

// One line of JSON text; invalid UTF-8 in strings is replaced, never thrown on.
std::string to_line(const nlohmann::json& value);

}  // namespace stellwerk::admin

// MQTT control packets as plain values, for versions 3.1, 3.1.1 and 5.0.
//
// One struct per packet type; fields that exist only in MQTT 5 are ignored when
// encoding for 3.1.x. Decoding and encoding live in codec.h. Nothing here does
// I/O. Payloads are binary-safe std::string.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "mqtt/reason_code.h"

namespace stellwerk::mqtt {

enum class Version : uint8_t { v31 = 3, v311 = 4, v5 = 5 };

enum class PacketType : uint8_t {
  connect = 1,
  connack = 2,
  publish = 3,
  puback = 4,
  pubrec = 5,
  pubrel = 6,
  pubcomp = 7,
  subscribe = 8,
  suback = 9,
  unsubscribe = 10,
  unsuback = 11,
  pingreq = 12,
  pingresp = 13,
  disconnect = 14,
  auth = 15,
};

enum class QoS : uint8_t { at_most_once = 0, at_least_once = 1, exactly_once = 2 };

using UserProperty = std::pair<std::string, std::string>;

// Every MQTT 5 property; an empty optional means "absent". Which properties a
// packet may carry is checked by the decoder (v5 section 2.2.2.2).
struct Properties {
  std::optional<uint8_t> payload_format_indicator;         // 0x01
  std::optional<uint32_t> message_expiry_interval;         // 0x02
  std::optional<std::string> content_type;                 // 0x03
  std::optional<std::string> response_topic;               // 0x08
  std::optional<std::string> correlation_data;             // 0x09 (binary)
  std::vector<uint32_t> subscription_identifiers;          // 0x0B (PUBLISH may carry several)
  std::optional<uint32_t> session_expiry_interval;         // 0x11
  std::optional<std::string> assigned_client_identifier;   // 0x12
  std::optional<uint16_t> server_keep_alive;               // 0x13
  std::optional<std::string> authentication_method;        // 0x15
  std::optional<std::string> authentication_data;          // 0x16 (binary)
  std::optional<uint8_t> request_problem_information;      // 0x17
  std::optional<uint32_t> will_delay_interval;             // 0x18
  std::optional<uint8_t> request_response_information;     // 0x19
  std::optional<std::string> response_information;         // 0x1A
  std::optional<std::string> server_reference;             // 0x1C
  std::optional<std::string> reason_string;                // 0x1F
  std::optional<uint16_t> receive_maximum;                 // 0x21
  std::optional<uint16_t> topic_alias_maximum;             // 0x22
  std::optional<uint16_t> topic_alias;                     // 0x23
  std::optional<uint8_t> maximum_qos;                      // 0x24
  std::optional<uint8_t> retain_available;                 // 0x25
  std::vector<UserProperty> user_properties;               // 0x26
  std::optional<uint32_t> maximum_packet_size;             // 0x27
  std::optional<uint8_t> wildcard_subscription_available;  // 0x28
  std::optional<uint8_t> subscription_identifier_available;  // 0x29
  std::optional<uint8_t> shared_subscription_available;    // 0x2A

  bool operator==(const Properties&) const = default;
};

struct Will {
  std::string topic;
  std::string payload;
  QoS qos = QoS::at_most_once;
  bool retain = false;
  Properties properties;  // v5 will properties

  bool operator==(const Will&) const = default;
};

struct Connect {
  std::string protocol_name = "MQTT";  // "MQIsdp" for 3.1
  Version version = Version::v311;
  bool clean_start = true;  // "clean session" in 3.1.x
  uint16_t keep_alive = 60;
  std::string client_id;
  std::optional<Will> will;
  std::optional<std::string> username;
  std::optional<std::string> password;  // binary
  Properties properties;

  bool operator==(const Connect&) const = default;
};

struct Connack {
  bool session_present = false;
  // v5 reason code; for 3.1.x the encoder maps it to a 3.1.1 return code
  // (see to_v3_connack_code) and the decoder maps back.
  ReasonCode reason = ReasonCode::success;
  Properties properties;

  bool operator==(const Connack&) const = default;
};

struct Publish {
  bool dup = false;
  QoS qos = QoS::at_most_once;
  bool retain = false;
  std::string topic;  // may be empty in v5 when a topic alias is used
  uint16_t packet_id = 0;  // only for QoS 1 and 2
  Properties properties;
  std::string payload;

  bool operator==(const Publish&) const = default;
};

// PUBACK, PUBREC, PUBREL and PUBCOMP share one shape.
struct Ack {
  PacketType type = PacketType::puback;
  uint16_t packet_id = 0;
  ReasonCode reason = ReasonCode::success;
  Properties properties;

  bool operator==(const Ack&) const = default;
};

enum class RetainHandling : uint8_t { send_on_subscribe = 0, send_if_new = 1, do_not_send = 2 };

struct SubscriptionOptions {
  QoS max_qos = QoS::at_most_once;
  bool no_local = false;             // v5
  bool retain_as_published = false;  // v5
  RetainHandling retain_handling = RetainHandling::send_on_subscribe;  // v5

  bool operator==(const SubscriptionOptions&) const = default;
};

struct TopicRequest {
  std::string filter;
  SubscriptionOptions options;

  bool operator==(const TopicRequest&) const = default;
};

struct Subscribe {
  uint16_t packet_id = 0;
  Properties properties;
  std::vector<TopicRequest> topics;

  bool operator==(const Subscribe&) const = default;
};

// SUBACK and UNSUBACK: one reason code per requested filter. For 3.1.x
// SUBACK, granted QoS 0/1/2 are reason codes 0x00/0x01/0x02 and any failure
// is encoded as 0x80. 3.1.x UNSUBACK carries no codes.
struct Suback {
  uint16_t packet_id = 0;
  Properties properties;
  std::vector<ReasonCode> reasons;

  bool operator==(const Suback&) const = default;
};

struct Unsubscribe {
  uint16_t packet_id = 0;
  Properties properties;
  std::vector<std::string> filters;

  bool operator==(const Unsubscribe&) const = default;
};

struct Unsuback {
  uint16_t packet_id = 0;
  Properties properties;
  std::vector<ReasonCode> reasons;

  bool operator==(const Unsuback&) const = default;
};

struct Pingreq {
  bool operator==(const Pingreq&) const = default;
};
struct Pingresp {
  bool operator==(const Pingresp&) const = default;
};

struct Disconnect {
  ReasonCode reason = ReasonCode::success;  // v5 only
  Properties properties;

  bool operator==(const Disconnect&) const = default;
};

struct Auth {
  ReasonCode reason = ReasonCode::success;
  Properties properties;

  bool operator==(const Auth&) const = default;
};

using Packet = std::variant<Connect, Connack, Publish, Ack, Subscribe, Suback, Unsubscribe,
                            Unsuback, Pingreq, Pingresp, Disconnect, Auth>;

PacketType packet_type(const Packet& packet);
const char* packet_type_name(PacketType type);

// True when the v5 spec lists `code` among the reason codes of `type` (CONNACK,
// PUBACK..PUBCOMP, SUBACK, UNSUBACK, DISCONNECT, AUTH); false for other types.
bool is_allowed_reason_code(PacketType type, ReasonCode code);

}  // namespace stellwerk::mqtt

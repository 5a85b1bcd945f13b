// MQTT 5 reason codes (v5 section 2.4), and the 3.1.1 CONNACK return codes
// they map to. Declared once in the X-macro table below.
#pragma once

#include <cstdint>

namespace stellwerk::mqtt {

#define STELLWERK_REASON_CODES(X)                           \
  X(success, 0x00, "Success")                               \
  X(granted_qos_1, 0x01, "Granted QoS 1")                   \
  X(granted_qos_2, 0x02, "Granted QoS 2")                   \
  X(disconnect_with_will, 0x04, "Disconnect with Will Message") \
  X(no_matching_subscribers, 0x10, "No matching subscribers") \
  X(no_subscription_existed, 0x11, "No subscription existed") \
  X(continue_authentication, 0x18, "Continue authentication") \
  X(re_authenticate, 0x19, "Re-authenticate")               \
  X(unspecified_error, 0x80, "Unspecified error")           \
  X(malformed_packet, 0x81, "Malformed Packet")             \
  X(protocol_error, 0x82, "Protocol Error")                 \
  X(implementation_specific_error, 0x83, "Implementation specific error") \
  X(unsupported_protocol_version, 0x84, "Unsupported Protocol Version") \
  X(client_identifier_not_valid, 0x85, "Client Identifier not valid") \
  X(bad_user_name_or_password, 0x86, "Bad User Name or Password") \
  X(not_authorized, 0x87, "Not authorized")                 \
  X(server_unavailable, 0x88, "Server unavailable")         \
  X(server_busy, 0x89, "Server busy")                       \
  X(banned, 0x8A, "Banned")                                 \
  X(server_shutting_down, 0x8B, "Server shutting down")     \
  X(bad_authentication_method, 0x8C, "Bad authentication method") \
  X(keep_alive_timeout, 0x8D, "Keep Alive timeout")         \
  X(session_taken_over, 0x8E, "Session taken over")         \
  X(topic_filter_invalid, 0x8F, "Topic Filter invalid")     \
  X(topic_name_invalid, 0x90, "Topic Name invalid")         \
  X(packet_identifier_in_use, 0x91, "Packet Identifier in use") \
  X(packet_identifier_not_found, 0x92, "Packet Identifier not found") \
  X(receive_maximum_exceeded, 0x93, "Receive Maximum exceeded") \
  X(topic_alias_invalid, 0x94, "Topic Alias invalid")       \
  X(packet_too_large, 0x95, "Packet too large")             \
  X(message_rate_too_high, 0x96, "Message rate too high")   \
  X(quota_exceeded, 0x97, "Quota exceeded")                 \
  X(administrative_action, 0x98, "Administrative action")   \
  X(payload_format_invalid, 0x99, "Payload format invalid") \
  X(retain_not_supported, 0x9A, "Retain not supported")     \
  X(qos_not_supported, 0x9B, "QoS not supported")           \
  X(use_another_server, 0x9C, "Use another server")         \
  X(server_moved, 0x9D, "Server moved")                     \
  X(shared_subscriptions_not_supported, 0x9E, "Shared Subscriptions not supported") \
  X(connection_rate_exceeded, 0x9F, "Connection rate exceeded") \
  X(maximum_connect_time, 0xA0, "Maximum connect time")     \
  X(subscription_identifiers_not_supported, 0xA1, "Subscription Identifiers not supported") \
  X(wildcard_subscriptions_not_supported, 0xA2, "Wildcard Subscriptions not supported")

enum class ReasonCode : uint8_t {
#define STELLWERK_REASON_ENUM(name, value, text) name = value,
  STELLWERK_REASON_CODES(STELLWERK_REASON_ENUM)
#undef STELLWERK_REASON_ENUM
};

// The spec's name for a code ("Malformed Packet"), or "Unknown reason code".
const char* reason_code_text(ReasonCode code);
bool is_known_reason_code(uint8_t value);
inline bool is_error(ReasonCode code) { return static_cast<uint8_t>(code) >= 0x80; }

// 3.1.1 CONNACK return codes (3.1.1 section 3.2.2.3).
enum class V3ConnackCode : uint8_t {
  accepted = 0,
  unacceptable_protocol_version = 1,
  identifier_rejected = 2,
  server_unavailable = 3,
  bad_username_or_password = 4,
  not_authorized = 5,
};
V3ConnackCode to_v3_connack_code(ReasonCode code);
ReasonCode from_v3_connack_code(V3ConnackCode code);

}  // namespace stellwerk::mqtt

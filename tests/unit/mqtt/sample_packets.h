// Valid packets of every type for every version, with every property a v5
// packet may carry set. Shared by the round-trip tests and by the fuzzer's seed
// corpus maker (fuzz/make_seed_corpus.cpp), so both start from the same set.
#pragma once

#include <string>
#include <vector>

#include "mqtt/packet.h"

namespace stellwerk::mqtt::samples {

inline std::vector<UserProperty> user_properties() {
  return {{"region", "eu"}, {"region", "us"}, {"", "empty key is allowed"}};
}

inline Properties will_properties() {
  Properties p;
  p.payload_format_indicator = 1;
  p.message_expiry_interval = 3600;
  p.content_type = "text/plain";
  p.response_topic = "replies/42";
  p.correlation_data = std::string("\x00\x01\xFF", 3);
  p.will_delay_interval = 30;
  p.user_properties = user_properties();
  return p;
}

inline Properties connect_properties() {
  Properties p;
  p.session_expiry_interval = 0xFFFFFFFF;
  p.authentication_method = "SCRAM-SHA-256";
  p.authentication_data = std::string("\x00nonce", 6);
  p.request_problem_information = 0;
  p.request_response_information = 1;
  p.receive_maximum = 20;
  p.topic_alias_maximum = 10;
  p.user_properties = user_properties();
  p.maximum_packet_size = 1 << 20;
  return p;
}

inline Properties connack_properties() {
  Properties p;
  p.session_expiry_interval = 120;
  p.assigned_client_identifier = "auto-7f3a";
  p.server_keep_alive = 30;
  p.authentication_method = "SCRAM-SHA-256";
  p.authentication_data = "server-final";
  p.response_information = "responses/";
  p.server_reference = "other.example:1883";
  p.reason_string = "welcome";
  p.receive_maximum = 100;
  p.topic_alias_maximum = 16;
  p.maximum_qos = 1;
  p.retain_available = 1;
  p.user_properties = user_properties();
  p.maximum_packet_size = 268'435'460;
  p.wildcard_subscription_available = 1;
  p.subscription_identifier_available = 0;
  p.shared_subscription_available = 1;
  return p;
}

inline Properties publish_properties() {
  Properties p;
  p.payload_format_indicator = 0;
  p.message_expiry_interval = 60;
  p.content_type = "application/json";
  p.response_topic = "reply/here";
  p.correlation_data = "corr-1";
  p.subscription_identifiers = {1, 200, 268'435'455};
  p.topic_alias = 5;
  p.user_properties = user_properties();
  return p;
}

// PUBACK..PUBCOMP, SUBACK, UNSUBACK.
inline Properties ack_properties() {
  Properties p;
  p.reason_string = "because";
  p.user_properties = user_properties();
  return p;
}

inline Properties subscribe_properties() {
  Properties p;
  p.subscription_identifiers = {16'384};
  p.user_properties = user_properties();
  return p;
}

inline Properties disconnect_properties() {
  Properties p;
  p.session_expiry_interval = 0;
  p.server_reference = "elsewhere:8883";
  p.reason_string = "bye";
  p.user_properties = user_properties();
  return p;
}

inline Properties auth_properties() {
  Properties p;
  p.authentication_method = "SCRAM-SHA-256";
  p.authentication_data = std::string("\x01\x02\x00", 3);
  p.reason_string = "continue";
  p.user_properties = user_properties();
  return p;
}

inline bool v5(Version version) { return version == Version::v5; }

inline Connect full_connect(Version version) {
  Connect c;
  c.protocol_name = version == Version::v31 ? "MQIsdp" : "MQTT";
  c.version = version;
  c.clean_start = false;
  c.keep_alive = 600;
  c.client_id = "sensor-\xC3\xBC-01";  // ü: UTF-8 is fine in a client id
  Will will{"status/sensor-01", std::string("offline\x00", 8), QoS::exactly_once, true, {}};
  if (v5(version)) will.properties = will_properties();
  c.will = will;
  c.username = "alice";
  c.password = std::string("s3cr\x00t", 6);
  if (v5(version)) c.properties = connect_properties();
  return c;
}

inline Connect minimal_connect(Version version) {
  Connect c;
  c.protocol_name = version == Version::v31 ? "MQIsdp" : "MQTT";
  c.version = version;
  c.client_id = "";
  return c;
}

inline Publish publish(Version version, QoS qos) {
  Publish p;
  p.qos = qos;
  p.dup = qos != QoS::at_most_once;
  p.retain = true;
  p.topic = "plant/line-1/\xE2\x82\xAC/temp";
  p.packet_id = qos == QoS::at_most_once ? 0 : 65'535;
  p.payload = std::string("{\"t\":21.5}\x00\xFF", 12);
  if (v5(version)) p.properties = publish_properties();
  return p;
}

inline Subscribe subscribe(Version version) {
  Subscribe s;
  s.packet_id = 10;
  s.topics.push_back({"a/b", {QoS::at_least_once}});
  s.topics.push_back({"c/+/#", {QoS::exactly_once}});
  if (v5(version)) {
    s.topics.push_back({"$share/g1/x/#", {QoS::at_most_once, false, true,
                                          RetainHandling::do_not_send}});
    s.topics.push_back({"d", {QoS::at_least_once, true, false, RetainHandling::send_if_new}});
    s.properties = subscribe_properties();
  }
  return s;
}

inline std::vector<Packet> sample_packets(Version version) {
  std::vector<Packet> out;
  out.push_back(full_connect(version));
  out.push_back(minimal_connect(version));
  Connack connack{version != Version::v31, ReasonCode::success, {}};
  if (v5(version)) connack.properties = connack_properties();
  out.push_back(connack);
  out.push_back(Connack{false, ReasonCode::not_authorized, {}});
  for (QoS qos : {QoS::at_most_once, QoS::at_least_once, QoS::exactly_once}) {
    out.push_back(publish(version, qos));
  }
  out.push_back(Publish{false, QoS::at_most_once, false, "t", 0, {}, ""});
  for (PacketType type : {PacketType::puback, PacketType::pubrec, PacketType::pubrel,
                          PacketType::pubcomp}) {
    out.push_back(Ack{type, 7, ReasonCode::success, {}});
    if (!v5(version)) continue;
    ReasonCode failure = type == PacketType::pubrel || type == PacketType::pubcomp
                             ? ReasonCode::packet_identifier_not_found
                             : ReasonCode::quota_exceeded;
    out.push_back(Ack{type, 8, failure, {}});
    out.push_back(Ack{type, 9, ReasonCode::success, ack_properties()});
    out.push_back(Ack{type, 65'535, failure, ack_properties()});
  }
  out.push_back(subscribe(version));
  Suback suback{10, {}, {ReasonCode::success, ReasonCode::granted_qos_2,
                         ReasonCode::unspecified_error, ReasonCode::granted_qos_1}};
  if (v5(version)) {
    suback.properties = ack_properties();
    suback.reasons.push_back(ReasonCode::shared_subscriptions_not_supported);
  }
  out.push_back(suback);
  Unsubscribe unsubscribe{11, {}, {"a/b", "c/+/#", "$share/g1/x/#"}};
  if (v5(version)) unsubscribe.properties.user_properties = user_properties();
  out.push_back(unsubscribe);
  Unsuback unsuback{11, {}, {}};
  if (v5(version)) {
    unsuback.properties = ack_properties();
    unsuback.reasons = {ReasonCode::success, ReasonCode::no_subscription_existed,
                        ReasonCode::not_authorized};
  }
  out.push_back(unsuback);
  out.push_back(Pingreq{});
  out.push_back(Pingresp{});
  out.push_back(Disconnect{});
  if (v5(version)) {
    out.push_back(Disconnect{ReasonCode::disconnect_with_will, {}});
    out.push_back(Disconnect{ReasonCode::success, disconnect_properties()});
    out.push_back(Disconnect{ReasonCode::session_taken_over, disconnect_properties()});
    out.push_back(Auth{});
    out.push_back(Auth{ReasonCode::continue_authentication, auth_properties()});
    out.push_back(Auth{ReasonCode::success, auth_properties()});
  }
  return out;
}

}  // namespace stellwerk::mqtt::samples

// Helpers shared by the store tests: a fixed time base, message factories, a
// canonical text form of a recovered state (so states compare as strings and
// print readably when they differ), and a scripted sequence of broker actions
// that touches every record type.
#pragma once

#include <fmt/format.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "store/store.h"

namespace stellwerk::store::testing {

inline TimeBase fixed_time() { return TimeBase{TimePoint(std::chrono::hours(1)), 1'700'000'000'000}; }

// Every property the packet model has, each away from its default.
inline mqtt::Properties all_properties() {
  mqtt::Properties p;
  p.payload_format_indicator = 1;
  p.message_expiry_interval = 30;
  p.content_type = "text/plain";
  p.response_topic = "reply/here";
  p.correlation_data = std::string("\0\x01\x02", 3);
  p.subscription_identifiers = {1, 268435455};
  p.session_expiry_interval = 99;
  p.assigned_client_identifier = "auto-1";
  p.server_keep_alive = 30;
  p.authentication_method = "SCRAM";
  p.authentication_data = "data";
  p.request_problem_information = 0;
  p.will_delay_interval = 5;
  p.request_response_information = 1;
  p.response_information = "info";
  p.server_reference = "other";
  p.reason_string = "why";
  p.receive_maximum = 10;
  p.topic_alias_maximum = 4;
  p.topic_alias = 2;
  p.maximum_qos = 1;
  p.retain_available = 1;
  p.user_properties = {{"k", "v"}, {"k", "v2"}, {"", ""}};
  p.maximum_packet_size = 1 << 20;
  p.wildcard_subscription_available = 0;
  p.subscription_identifier_available = 1;
  p.shared_subscription_available = 1;
  return p;
}

inline session::MessagePtr make_message(std::string_view topic, std::string_view payload, mqtt::QoS qos, bool retain) {
  return session::Message::create(topic, payload, {.qos = qos, .retain = retain});
}

inline std::string describe_message(const session::Message& m) {
  const std::string payload = m.payload().size() > 16 ? fmt::format("<{} bytes>", m.payload().size()) : std::string(m.payload());
  return fmt::format("{}={}/q{}/r{:d}/ct={}/exp={}", m.topic(), payload, static_cast<int>(m.qos()), m.retain(),
                     m.properties().content_type.value_or("-"),
                     m.expires_at() ? (*m.expires_at() - fixed_time().steady).count() : -1);
}

inline std::string describe_delivery(const session::Delivery& d) {
  std::string ids;
  for (uint32_t id : d.subscription_ids) ids += fmt::format("{},", id);
  return fmt::format("[{} q{} r{:d} ids={}]", describe_message(*d.message), static_cast<int>(d.qos), d.retain,
                     ids);
}

inline std::string describe_session(const RecoveredSession& s) {
  std::string out =
      fmt::format("session {} exp={} at={} will={} due={}\n", s.client_id, s.info.expiry_interval,
                  s.info.expires_at, s.info.will ? s.info.will->topic : "-", s.info.will_due_at);
  for (const auto& [filter, sub] : s.subscriptions) {
    out += fmt::format("  sub {} q{} nl{:d} id{}\n", filter, static_cast<int>(sub.options.max_qos),
                       sub.options.no_local, sub.identifier);
  }
  for (const auto& d : s.queue) out += "  queued " + describe_delivery(d) + "\n";
  for (const auto& f : s.inflight) {
    out += fmt::format("  inflight {} s{} {}\n", f.packet_id, static_cast<int>(f.state),
                       describe_delivery(f.delivery));
  }
  for (uint16_t id : s.inbound_qos2) out += fmt::format("  inbound {}\n", id);
  return out;
}

// Everything but the sequence number, in a stable order.
inline std::string describe(const RecoveredState& state) {
  std::string out;
  for (const auto& m : state.retained) out += "retained " + describe_message(*m) + "\n";
  for (const auto& s : state.sessions) out += describe_session(s);
  return out;
}

// A broker's life in small steps; step(i) fills batch i. The messages live
// as long as the script, as the broker would hold them.
class Script {
 public:
  static constexpr size_t kSteps = 12;

  Script() {
    m1_ = make_message("a/1", "one", mqtt::QoS::at_least_once, true);
    m2_ = make_message("a/2", "two", mqtt::QoS::exactly_once, false);
    m3_ = make_message("b", "three", mqtt::QoS::at_least_once, true);
    m4_ = make_message("a/4", std::string(300, 'x'), mqtt::QoS::at_least_once, false);
  }

  // After a restart the broker holds the recovered messages, not the ones
  // it had before: the script switches to them, matched by topic.
  void adopt(const RecoveredState& state) {
    for (const auto& message : state.retained) adopt_one(message);
    for (const auto& session : state.sessions) {
      for (const auto& delivery : session.queue) adopt_one(delivery.message);
      for (const auto& inflight : session.inflight) adopt_one(inflight.delivery.message);
    }
  }

  void step(size_t i, Batch& b) {
    using session::InflightState;
    const session::Subscription qos1{{mqtt::QoS::at_least_once, false, false, {}}, 7};
    const session::Subscription qos2{{mqtt::QoS::exactly_once, true, false, {}}, 0};
    switch (i) {
      case 0:
        b.put_session("alice", SessionInfo{3600, mqtt::Will{"will/alice", "gone", {}, false, {}}, 0, 0});
        b.subscribe("alice", "a/#", qos1);
        break;
      case 1:
        b.put_session("bob", SessionInfo{60, std::nullopt, 0, 0});
        b.subscribe("bob", "a/+", qos2);
        break;
      case 2:
        b.retain(m1_);
        b.enqueue("alice", {m1_, mqtt::QoS::at_least_once, false, {7}});
        b.enqueue("bob", {m1_, mqtt::QoS::at_least_once, false, {}});
        break;
      case 3:
        b.add_inbound_qos2("alice", 12);
        b.enqueue("alice", {m2_, mqtt::QoS::exactly_once, false, {7}});
        b.enqueue("bob", {m2_, mqtt::QoS::exactly_once, false, {}});
        break;
      case 4:
        b.start_inflight("alice", m1_, 1, InflightState::awaiting_puback);
        b.start_inflight("bob", m2_, 1, InflightState::awaiting_pubrec);  // m1 skipped (expired)
        break;
      case 5:
        b.set_inflight_state("bob", 1, InflightState::awaiting_pubcomp);
        break;
      case 6:
        b.complete_inflight("alice", 1);
        b.dequeue("alice", m2_);
        b.release_inbound_qos2("alice", 12);
        break;
      case 7:
        b.clear_retained("a/1");
        b.retain(m3_);
        b.enqueue("alice", {m4_, mqtt::QoS::at_least_once, false, {7}});
        break;
      case 8:
        b.put_inflight(
            "bob",
            session::Inflight{5, InflightState::awaiting_puback, {m4_, mqtt::QoS::at_least_once, true, {}}});
        break;
      case 9:
        b.put_session("alice", SessionInfo{3600, std::nullopt, 1'700'000'360'000, 0});
        break;
      case 10:
        b.unsubscribe("bob", "a/+");
        b.put_session("carol", SessionInfo{0, std::nullopt, 0, 0});
        b.clear_messages("bob");
        break;
      default:
        b.delete_session("alice");
        break;
    }
  }

 private:
  void adopt_one(const session::MessagePtr& message) {
    for (session::MessagePtr* mine : {&m1_, &m2_, &m3_, &m4_}) {
      if ((*mine)->topic() == message->topic()) *mine = message;
    }
  }

  session::MessagePtr m1_, m2_, m3_, m4_;
};

}  // namespace stellwerk::store::testing

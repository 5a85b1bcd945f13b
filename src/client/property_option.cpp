// Parsing of `-D command identifier value` (see property_option.h). One table
// lists every property a client can set: its name as mosquitto spells it,
// the kind of value, the packets it may go into, and where it is stored.
#include "client/property_option.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cstdint>
#include <optional>
#include <string_view>

#include "mqtt/validate.h"

namespace stellwerk::client {
namespace {

enum Command : unsigned {
  kConnect = 1,
  kPublish = 2,
  kSubscribe = 4,
  kUnsubscribe = 8,
  kDisconnect = 16,
  kWill = 32,
};

struct Value {
  uint32_t number = 0;
  std::string text;
  std::string second;  // user-property value
};

enum class ValueKind { flag, uint16, uint32, varint, text, binary, pair };

struct PropertySpec {
  std::string_view name;
  ValueKind kind;
  uint32_t minimum;  // for numbers: 1 where the spec makes 0 a protocol error
  unsigned commands;
  void (*store)(mqtt::Properties&, Value&);
};

constexpr unsigned kMessage = kPublish | kWill;
constexpr unsigned kAllPackets =
    kConnect | kPublish | kSubscribe | kUnsubscribe | kDisconnect | kWill;

// Client-settable properties (v5 section 2.2.2.2). Authentication
// method/data are left out: they start an AUTH exchange this client does
// not implement.
constexpr std::array kProperties = {
    PropertySpec{"payload-format-indicator", ValueKind::flag, 0, kMessage,
                 [](mqtt::Properties& p, Value& v) {
                   p.payload_format_indicator = static_cast<uint8_t>(v.number);
                 }},
    PropertySpec{"message-expiry-interval", ValueKind::uint32, 0, kMessage,
                 [](mqtt::Properties& p, Value& v) { p.message_expiry_interval = v.number; }},
    PropertySpec{"content-type", ValueKind::text, 0, kMessage,
                 [](mqtt::Properties& p, Value& v) { p.content_type = std::move(v.text); }},
    PropertySpec{"response-topic", ValueKind::text, 0, kMessage,
                 [](mqtt::Properties& p, Value& v) { p.response_topic = std::move(v.text); }},
    PropertySpec{"correlation-data", ValueKind::binary, 0, kMessage,
                 [](mqtt::Properties& p, Value& v) { p.correlation_data = std::move(v.text); }},
    PropertySpec{
        "subscription-identifier", ValueKind::varint, 1, kSubscribe,
        [](mqtt::Properties& p, Value& v) { p.subscription_identifiers.assign(1, v.number); }},
    PropertySpec{"session-expiry-interval", ValueKind::uint32, 0, kConnect | kDisconnect,
                 [](mqtt::Properties& p, Value& v) { p.session_expiry_interval = v.number; }},
    PropertySpec{"request-problem-information", ValueKind::flag, 0, kConnect,
                 [](mqtt::Properties& p, Value& v) {
                   p.request_problem_information = static_cast<uint8_t>(v.number);
                 }},
    PropertySpec{"will-delay-interval", ValueKind::uint32, 0, kWill,
                 [](mqtt::Properties& p, Value& v) { p.will_delay_interval = v.number; }},
    PropertySpec{"request-response-information", ValueKind::flag, 0, kConnect,
                 [](mqtt::Properties& p, Value& v) {
                   p.request_response_information = static_cast<uint8_t>(v.number);
                 }},
    PropertySpec{"server-reference", ValueKind::text, 0, kDisconnect,
                 [](mqtt::Properties& p, Value& v) { p.server_reference = std::move(v.text); }},
    PropertySpec{"reason-string", ValueKind::text, 0, kDisconnect,
                 [](mqtt::Properties& p, Value& v) { p.reason_string = std::move(v.text); }},
    PropertySpec{
        "receive-maximum", ValueKind::uint16, 1, kConnect,
        [](mqtt::Properties& p, Value& v) { p.receive_maximum = static_cast<uint16_t>(v.number); }},
    PropertySpec{"topic-alias-maximum", ValueKind::uint16, 0, kConnect,
                 [](mqtt::Properties& p, Value& v) {
                   p.topic_alias_maximum = static_cast<uint16_t>(v.number);
                 }},
    PropertySpec{
        "topic-alias", ValueKind::uint16, 1, kPublish,
        [](mqtt::Properties& p, Value& v) { p.topic_alias = static_cast<uint16_t>(v.number); }},
    PropertySpec{"maximum-packet-size", ValueKind::uint32, 1, kConnect,
                 [](mqtt::Properties& p, Value& v) { p.maximum_packet_size = v.number; }},
    PropertySpec{"user-property", ValueKind::pair, 0, kAllPackets,
                 [](mqtt::Properties& p, Value& v) {
                   p.user_properties.emplace_back(std::move(v.text), std::move(v.second));
                 }},
};

// Properties only a server sends, and the authentication pair (see above):
// named so the error says "not supported" rather than "invalid".
constexpr std::array<std::string_view, 10> kServerOnly = {"assigned-client-identifier",
                                                          "server-keep-alive",
                                                          "response-information",
                                                          "maximum-qos",
                                                          "retain-available",
                                                          "wildcard-subscription-available",
                                                          "subscription-identifier-available",
                                                          "shared-subscription-available",
                                                          "authentication-method",
                                                          "authentication-data"};

std::optional<unsigned> parse_command(std::string_view word) {
  if (word == "connect") return kConnect;
  if (word == "publish") return kPublish;
  if (word == "subscribe") return kSubscribe;
  if (word == "unsubscribe") return kUnsubscribe;
  if (word == "disconnect") return kDisconnect;
  if (word == "will") return kWill;
  return std::nullopt;
}

mqtt::Properties& target(PropertyOptions& options, unsigned command) {
  switch (command) {
    case kConnect: return options.connect;
    case kPublish: return options.publish;
    case kSubscribe: return options.subscribe;
    case kUnsubscribe: return options.unsubscribe;
    case kDisconnect: return options.disconnect;
    default: return options.will;
  }
}

uint32_t maximum_of(ValueKind kind) {
  switch (kind) {
    case ValueKind::flag: return 1;
    case ValueKind::uint16: return 65535;
    case ValueKind::varint: return 268'435'455;
    default: return UINT32_MAX;
  }
}

ClientResult<uint32_t> parse_number(const PropertySpec& spec, std::string_view text) {
  uint64_t number = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), number);
  if (error != std::errc() || end != text.data() + text.size() || number < spec.minimum ||
      number > maximum_of(spec.kind)) {
    return client_error(ErrorKind::usage,
                        fmt::format("invalid value '{}' for {}: expected {} to {}", text, spec.name,
                                    spec.minimum, maximum_of(spec.kind)));
  }
  return static_cast<uint32_t>(number);
}

// Strings go on the wire with a 16-bit length; all but binary data must be
// UTF-8 (v5 1.5.4), and a response topic must be a topic name [MQTT-3.3.2-14].
ClientStatus check_text(const PropertySpec& spec, const std::string& text) {
  constexpr size_t kMaxStringLength = 65535;
  const bool valid = spec.kind == ValueKind::binary
                         ? text.size() <= kMaxStringLength
                         : mqtt::is_valid_utf8(text) &&
                               (spec.name != "response-topic" || mqtt::is_valid_topic_name(text));
  if (valid) return {};
  return client_error(ErrorKind::usage, fmt::format("invalid value '{}' for {}", text, spec.name));
}

ClientResult<Value> parse_value(const PropertySpec& spec, const std::vector<std::string>& words) {
  const size_t expected = spec.kind == ValueKind::pair ? 4 : 3;
  if (words.size() != expected) {
    return client_error(ErrorKind::usage,
                        fmt::format("{} takes {} in -D", spec.name,
                                    expected == 4 ? "a key and a value" : "one value"));
  }
  Value value;
  if (spec.kind == ValueKind::text || spec.kind == ValueKind::binary ||
      spec.kind == ValueKind::pair) {
    for (size_t i = 2; i < words.size(); ++i) {
      if (auto checked = check_text(spec, words[i]); !checked) return fail(checked.error());
    }
    value.text = words[2];
    if (expected == 4) value.second = words[3];
    return value;
  }
  auto number = parse_number(spec, words[2]);
  if (!number) return fail(number.error());
  value.number = number.value();
  return value;
}

const PropertySpec* find_property(std::string_view name) {
  for (const auto& spec : kProperties) {
    if (spec.name == name) return &spec;
  }
  return nullptr;
}

}  // namespace

ClientStatus add_property_option(const std::vector<std::string>& words, PropertyOptions& options) {
  if (words.size() < 3) {
    return client_error(ErrorKind::usage, "-D needs a command, a property name and a value");
  }
  const auto command = parse_command(words[0]);
  if (!command) {
    return client_error(ErrorKind::usage, fmt::format("invalid command '{}' in -D", words[0]));
  }
  const PropertySpec* spec = find_property(words[1]);
  if (!spec) {
    const bool server_only =
        std::find(kServerOnly.begin(), kServerOnly.end(), words[1]) != kServerOnly.end();
    return client_error(ErrorKind::usage,
                        server_only ? fmt::format("{} property not supported in -D", words[1])
                                    : fmt::format("invalid property name '{}' in -D", words[1]));
  }
  if ((spec->commands & *command) == 0) {
    return client_error(ErrorKind::usage,
                        fmt::format("{} property not allowed for {} in -D", spec->name, words[0]));
  }
  auto value = parse_value(*spec, words);
  if (!value) return fail(value.error());
  spec->store(target(options, *command), value.value());
  return {};
}

}  // namespace stellwerk::client

// Message printing for `stellwerk sub` (see message_format.h). The format
// string is walked once per message; check_format() walks it once before, with
// the same tables, so rendering can treat an unknown sequence as impossible.
#include "client/message_format.h"

#include <fmt/format.h>

#include <ctime>

namespace stellwerk::client {
namespace {

constexpr std::string_view kFieldLetters = "tpqrlmxXIUACDEFPRS%";

std::optional<char> escape_value(char letter) {
  switch (letter) {
    case 'n': return '\n';
    case 'r': return '\r';
    case 't': return '\t';
    case 'v': return '\v';
    case 'a': return '\a';
    case 'e': return '\x1b';
    case '0': return '\0';
    case '\\': return '\\';
    default: return std::nullopt;
  }
}

void append_hex(std::string_view bytes, bool upper, std::string& out) {
  for (unsigned char byte : bytes) {
    out += upper ? fmt::format("{:02X}", byte) : fmt::format("{:02x}", byte);
  }
}

std::tm local_time(std::chrono::system_clock::time_point at) {
  const std::time_t seconds = std::chrono::system_clock::to_time_t(at);
  std::tm parts{};
  localtime_r(&seconds, &parts);
  return parts;
}

void append_strftime(const char* pattern, std::chrono::system_clock::time_point at,
                     std::string& out) {
  const std::tm parts = local_time(at);
  char buffer[128];
  const size_t length = std::strftime(buffer, sizeof(buffer), pattern, &parts);
  out.append(buffer, length);
}

long nanoseconds_of(std::chrono::system_clock::time_point at) {
  const auto since_epoch = at.time_since_epoch();
  return static_cast<long>(
      (std::chrono::duration_cast<std::chrono::nanoseconds>(since_epoch) % std::chrono::seconds(1))
          .count());
}

template <typename T>
void append_optional(const std::optional<T>& value, std::string& out) {
  if (value) out += fmt::format("{}", *value);
}

void append_user_properties(const mqtt::Properties& properties, std::string& out) {
  for (size_t i = 0; i < properties.user_properties.size(); ++i) {
    if (i > 0) out += ' ';
    out += properties.user_properties[i].first + ':' + properties.user_properties[i].second;
  }
}

void append_time_field(char letter, std::chrono::system_clock::time_point at, std::string& out) {
  if (letter == 'I') {
    append_strftime("%Y-%m-%dT%H:%M:%S%z", at, out);
    return;
  }
  out += fmt::format("{}.{:09}", std::chrono::system_clock::to_time_t(at), nanoseconds_of(at));
}

void append_property_field(char letter, const mqtt::Properties& p, std::string& out) {
  switch (letter) {
    case 'A': append_optional(p.topic_alias, out); break;
    case 'C': append_optional(p.content_type, out); break;
    case 'D': append_optional(p.correlation_data, out); break;
    case 'E': append_optional(p.message_expiry_interval, out); break;
    case 'F':
      if (p.payload_format_indicator) out += fmt::format("{}", *p.payload_format_indicator);
      break;
    case 'P': append_user_properties(p, out); break;
    case 'R': append_optional(p.response_topic, out); break;
    case 'S': out += fmt::format("{}", fmt::join(p.subscription_identifiers, " ")); break;
  }
}

void append_field(char letter, const mqtt::Publish& message,
                  std::chrono::system_clock::time_point at, std::string& out) {
  switch (letter) {
    case '%': out += '%'; break;
    case 't': out += message.topic; break;
    case 'p': out += message.payload; break;
    case 'q': out += fmt::format("{}", static_cast<int>(message.qos)); break;
    case 'r': out += message.retain ? '1' : '0'; break;
    case 'l': out += fmt::format("{}", message.payload.size()); break;
    case 'm': out += fmt::format("{}", message.packet_id); break;
    case 'x': append_hex(message.payload, false, out); break;
    case 'X': append_hex(message.payload, true, out); break;
    case 'I':
    case 'U': append_time_field(letter, at, out); break;
    default: append_property_field(letter, message.properties, out); break;
  }
}

void append_time_sequence(char letter, std::chrono::system_clock::time_point at, std::string& out) {
  if (letter == '@') {
    out += '@';
  } else if (letter == 'N') {
    out += fmt::format("{:09}", nanoseconds_of(at));
  } else {
    const char pattern[] = {'%', letter, '\0'};
    append_strftime(pattern, at, out);
  }
}

std::string render_format(const mqtt::Publish& message, std::string_view format,
                          std::chrono::system_clock::time_point at) {
  std::string out;
  for (size_t i = 0; i < format.size(); ++i) {
    const char c = format[i];
    const bool sequence = (c == '%' || c == '@' || c == '\\') && i + 1 < format.size();
    if (!sequence) {
      out += c;
      continue;
    }
    const char letter = format[++i];
    if (c == '%') append_field(letter, message, at, out);
    if (c == '@') append_time_sequence(letter, at, out);
    if (c == '\\') out += escape_value(letter).value_or(letter);
  }
  return out;
}

std::string render_plain(const mqtt::Publish& message, const OutputOptions& options) {
  const std::string_view newline = options.end_of_line ? "\n" : "";
  if (!options.verbose) {
    if (message.payload.empty()) return {};
    return message.payload + std::string(newline);
  }
  if (message.payload.empty()) {
    return options.end_of_line ? message.topic + " (null)\n" : std::string();
  }
  return message.topic + ' ' + message.payload + std::string(newline);
}

}  // namespace

ClientStatus check_format(std::string_view format) {
  for (size_t i = 0; i < format.size(); ++i) {
    const char c = format[i];
    if (c != '%' && c != '\\' && c != '@') continue;
    if (i + 1 == format.size()) {
      return client_error(ErrorKind::usage,
                          fmt::format("incomplete sequence '{}' at the end of the format", c));
    }
    const char letter = format[++i];
    if (c == '%' && kFieldLetters.find(letter) == std::string_view::npos) {
      return client_error(ErrorKind::usage, fmt::format("invalid format specifier '{}'", letter));
    }
    if (c == '\\' && !escape_value(letter)) {
      return client_error(ErrorKind::usage, fmt::format("invalid escape specifier '{}'", letter));
    }
  }
  return {};
}

std::string render_message(const mqtt::Publish& message, const OutputOptions& options,
                           std::chrono::system_clock::time_point received_at) {
  if (options.format.empty()) return render_plain(message, options);
  std::string out = render_format(message, options.format, received_at);
  if (options.end_of_line) out += '\n';
  return out;
}

}  // namespace stellwerk::client

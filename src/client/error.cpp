// Human-readable reason codes for client error messages.
#include "client/error.h"

#include <fmt/format.h>

#include <cctype>

namespace stellwerk::client {

std::string reason_name(mqtt::ReasonCode reason) {
  std::string text = mqtt::reason_code_text(reason);
  for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

std::string describe_reason(mqtt::ReasonCode reason) {
  return fmt::format("{} (0x{:02X})", reason_name(reason), static_cast<unsigned>(reason));
}

}  // namespace stellwerk::client

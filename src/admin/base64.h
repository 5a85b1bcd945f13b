// Base64 (RFC 4648, standard alphabet, padded) for payloads and correlation
// data in the admin protocol's JSON, which can only carry text.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace stellwerk::admin {

std::string base64_encode(std::string_view bytes);
// nullopt for a character outside the alphabet, misplaced padding or a
// length that no encoding has. Whitespace is not accepted.
std::optional<std::string> base64_decode(std::string_view text);

}  // namespace stellwerk::admin

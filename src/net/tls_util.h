// Small helpers shared by the TLS context and the TLS transport.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace stellwerk::net {

// Empties this thread's OpenSSL error queue and returns the most specific
// reason in it ("certificate verify failed"), or "unknown error".
std::string take_openssl_error();

// "0a1B" -> the bytes {0x0a, 0x1b}; nothing for odd lengths or non-hex digits.
std::optional<std::string> decode_hex(std::string_view hex);

}  // namespace stellwerk::net

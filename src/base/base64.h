// Base64 (RFC 4648, standard alphabet) for the salts and digests of password
// hashes. mosquitto writes them padded; argon2's PHC strings leave the
// padding out, so decoding accepts both and encoding lets the caller choose.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace stellwerk {

enum class Base64Padding { with_padding, without_padding };

std::string base64_encode(std::span<const uint8_t> bytes, Base64Padding padding);

// nullopt for a character outside the alphabet, misplaced '=' or a length no
// encoding can have.
std::optional<std::vector<uint8_t>> base64_decode(std::string_view text);

// The same for byte strings held in std::string (payloads, correlation data).
std::string base64_encode(std::string_view bytes);
std::optional<std::string> base64_decode_to_string(std::string_view text);

}  // namespace stellwerk

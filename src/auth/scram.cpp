// SCRAM-SHA-256, server side; see scram.h. Message grammar from RFC 5802
// section 7: attributes are "<letter>=<value>" joined by ',', a user name
// escapes ',' and '=' as "=2C" and "=3D", and the proof comes last in
// client-final. OpenSSL supplies PBKDF2, HMAC, SHA-256 and the constant-time
// compare.
#include "auth/scram.h"

#include <fmt/format.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include <array>
#include <random>

#include "base/base64.h"

namespace stellwerk::auth {
namespace {

using Digest = std::array<uint8_t, kScramKeyBytes>;

constexpr size_t kNonceBytes = 18;

std::span<const uint8_t> bytes_of(std::string_view text) {
  return {reinterpret_cast<const uint8_t*>(text.data()), text.size()};
}

Digest hmac_sha256(std::span<const uint8_t> key, std::string_view data) {
  Digest out{};
  unsigned int length = 0;
  // Cannot fail for SHA-256 with in-memory inputs; a zero digest would only
  // make a proof check fail, never pass.
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), bytes_of(data).data(), data.size(), out.data(),
       &length);
  return out;
}

Digest sha256(std::span<const uint8_t> data) {
  Digest out{};
  SHA256(data.data(), data.size(), out.data());
  return out;
}

std::vector<std::string_view> split_attributes(std::string_view text) {
  std::vector<std::string_view> parts;
  for (size_t start = 0;;) {
    const size_t end = text.find(',', start);
    parts.push_back(text.substr(start, end - start));
    if (end == std::string_view::npos) return parts;
    start = end + 1;
  }
}

// "x=..." with a letter name, the shape of every attribute.
bool is_attribute(std::string_view attribute) {
  return attribute.size() >= 2 && attribute[1] == '=' &&
         ((attribute[0] >= 'a' && attribute[0] <= 'z') || (attribute[0] >= 'A' && attribute[0] <= 'Z'));
}

// The value of attribute `name`, or nullopt when `attribute` is another one.
std::optional<std::string_view> value_of(std::string_view attribute, char name) {
  if (!is_attribute(attribute) || attribute[0] != name) return std::nullopt;
  return attribute.substr(2);
}

// Undoes the "=2C" / "=3D" escapes; nullopt for an empty name, a NUL, or a
// '=' that starts neither escape.
std::optional<std::string> decode_saslname(std::string_view text) {
  if (text.empty()) return std::nullopt;
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\0') return std::nullopt;
    if (text[i] != '=') {
      out += text[i];
      continue;
    }
    const std::string_view escape = text.substr(i + 1, 2);
    if (escape == "2C") {
      out += ',';
    } else if (escape == "3D") {
      out += '=';
    } else {
      return std::nullopt;
    }
    i += 2;
  }
  return out;
}

bool is_valid_nonce(std::string_view nonce) {
  if (nonce.empty()) return false;
  for (const char c : nonce) {
    if (c < 0x21 || c > 0x7e || c == ',') return false;
  }
  return true;
}

// Optional attributes after the mandatory ones: allowed, and ignored.
bool only_extensions(std::span<const std::string_view> attributes) {
  for (const std::string_view attribute : attributes) {
    if (!is_attribute(attribute)) return false;
  }
  return true;
}

struct Gs2Split {
  std::string_view header;  // through the second ','
  std::string_view bare;
  std::string_view authzid;  // escaped; empty when absent
};

// Splits "n,[a=authzid]," from the rest; the RFC 5802 error when it is wrong.
Result<Gs2Split, std::string_view> split_gs2_header(std::string_view message) {
  if (message.starts_with("p=")) return fail(std::string_view("channel-binding-not-supported"));
  if (!message.starts_with("n,") && !message.starts_with("y,")) {
    return fail(std::string_view("invalid-encoding"));
  }
  const size_t second_comma = message.find(',', 2);
  if (second_comma == std::string_view::npos) return fail(std::string_view("invalid-encoding"));
  Gs2Split split{message.substr(0, second_comma + 1), message.substr(second_comma + 1), {}};
  const std::string_view authzid = message.substr(2, second_comma - 2);
  if (!authzid.empty()) {
    const std::optional<std::string_view> value = value_of(authzid, 'a');
    if (!value) return fail(std::string_view("invalid-encoding"));
    split.authzid = *value;
  }
  return split;
}

}  // namespace

std::optional<ScramKeys> derive_scram_keys(std::string_view password, std::span<const uint8_t> salt,
                                           int iterations) {
  if (iterations < 1 || salt.empty()) return std::nullopt;
  Digest salted{};
  if (PKCS5_PBKDF2_HMAC(password.data(), static_cast<int>(password.size()), salt.data(),
                        static_cast<int>(salt.size()), iterations, EVP_sha256(),
                        static_cast<int>(salted.size()), salted.data()) != 1) {
    return std::nullopt;
  }
  const Digest client_key = hmac_sha256(salted, "Client Key");
  const Digest stored_key = sha256(client_key);
  const Digest server_key = hmac_sha256(salted, "Server Key");
  OPENSSL_cleanse(salted.data(), salted.size());
  return ScramKeys{{stored_key.begin(), stored_key.end()}, {server_key.begin(), server_key.end()}};
}

std::string random_scram_nonce() {
  std::array<uint8_t, kNonceBytes> bytes{};
  // An empty nonce makes the exchange fail rather than reuse a predictable one.
  if (RAND_bytes(bytes.data(), static_cast<int>(bytes.size())) != 1) return {};
  return base64_encode(bytes, Base64Padding::without_padding);
}

std::span<const uint8_t> scram_process_secret() {
  static const std::array<uint8_t, 32> secret = [] {
    std::array<uint8_t, 32> bytes{};
    if (RAND_bytes(bytes.data(), static_cast<int>(bytes.size())) != 1) {
      std::random_device device;
      for (uint8_t& byte : bytes) byte = static_cast<uint8_t>(device());
    }
    return bytes;
  }();
  return secret;
}

ScramServer::ScramServer(ScramLookup lookup, NonceSource nonce, std::span<const uint8_t> secret)
    : lookup_(std::move(lookup)), nonce_source_(std::move(nonce)), secret_(secret.begin(), secret.end()) {}

ScramStep ScramServer::step(std::string_view client_data) {
  switch (state_) {
    case State::awaiting_client_first:
      return on_client_first(client_data);
    case State::awaiting_client_final:
      return on_client_final(client_data);
    case State::done:
      break;
  }
  return failure("other-error");
}

ScramStep ScramServer::failure(std::string_view error) {
  state_ = State::done;
  return ScramStep{ScramOutcome::failure, fmt::format("e={}", error)};
}

ScramStep ScramServer::on_client_first(std::string_view message) {
  Result<Gs2Split, std::string_view> gs2 = split_gs2_header(message);
  if (!gs2) return failure(gs2.error());
  const std::vector<std::string_view> attributes = split_attributes(gs2->bare);
  // [reserved-mext] is for a future version of SCRAM that must not be ignored.
  if (value_of(attributes.front(), 'm')) return failure("extensions-not-supported");
  if (attributes.size() < 2) return failure("invalid-encoding");
  const std::optional<std::string_view> name = value_of(attributes[0], 'n');
  const std::optional<std::string_view> client_nonce = value_of(attributes[1], 'r');
  if (!name || !client_nonce || !only_extensions(std::span(attributes).subspan(2))) {
    return failure("invalid-encoding");
  }
  std::optional<std::string> username = decode_saslname(*name);
  if (!username) return failure("invalid-username-encoding");
  // Acting as another user is not offered: an authzid must name the user.
  if (!gs2->authzid.empty() && decode_saslname(gs2->authzid) != username) return failure("other-error");
  if (!is_valid_nonce(*client_nonce)) return failure("invalid-encoding");
  const std::string server_nonce = nonce_source_ ? nonce_source_() : std::string();
  if (!is_valid_nonce(server_nonce)) return failure("no-resources");

  username_ = std::move(*username);
  gs2_header_ = std::string(gs2->header);
  client_first_bare_ = std::string(gs2->bare);
  nonce_ = fmt::format("{}{}", *client_nonce, server_nonce);
  verifier_ = verifier_for(username_);
  server_first_ =
      fmt::format("r={},s={},i={}", nonce_, base64_encode(verifier_.salt, Base64Padding::with_padding),
                  verifier_.iterations);
  state_ = State::awaiting_client_final;
  return ScramStep{ScramOutcome::proceed, server_first_};
}

ScramStep ScramServer::on_client_final(std::string_view message) {
  const size_t proof_at = message.rfind(",p=");
  if (proof_at == std::string_view::npos) return failure("invalid-encoding");
  const std::string_view without_proof = message.substr(0, proof_at);
  const std::vector<std::string_view> attributes = split_attributes(without_proof);
  if (attributes.size() < 2) return failure("invalid-encoding");
  const std::optional<std::string_view> binding = value_of(attributes[0], 'c');
  const std::optional<std::string_view> nonce = value_of(attributes[1], 'r');
  if (!binding || !nonce || !only_extensions(std::span(attributes).subspan(2))) {
    return failure("invalid-encoding");
  }
  const std::optional<std::vector<uint8_t>> binding_bytes = base64_decode(*binding);
  if (!binding_bytes) return failure("invalid-encoding");
  // Without channel binding, c= repeats the gs2 header of client-first.
  if (std::string_view(reinterpret_cast<const char*>(binding_bytes->data()), binding_bytes->size()) !=
      gs2_header_) {
    return failure("channel-bindings-dont-match");
  }
  if (*nonce != nonce_) return failure("other-error");
  const std::optional<std::vector<uint8_t>> proof = base64_decode(message.substr(proof_at + 3));
  if (!proof) return failure("invalid-encoding");
  const std::string auth_message = fmt::format("{},{},{}", client_first_bare_, server_first_, without_proof);
  if (!proof_matches(*proof, auth_message)) return failure("invalid-proof");
  state_ = State::done;
  const Digest signature = hmac_sha256(verifier_.server_key, auth_message);
  return ScramStep{ScramOutcome::success,
                   fmt::format("v={}", base64_encode(signature, Base64Padding::with_padding))};
}

bool ScramServer::proof_matches(std::span<const uint8_t> proof, std::string_view auth_message) const {
  if (proof.size() != kScramKeyBytes || verifier_.digest.size() != kScramKeyBytes) return false;
  // ClientKey = ClientProof XOR HMAC(StoredKey, AuthMessage); H(ClientKey) must be StoredKey.
  const Digest signature = hmac_sha256(verifier_.digest, auth_message);
  Digest client_key{};
  for (size_t i = 0; i < client_key.size(); ++i) client_key[i] = proof[i] ^ signature[i];
  const Digest candidate = sha256(client_key);
  return CRYPTO_memcmp(candidate.data(), verifier_.digest.data(), candidate.size()) == 0;
}

PasswordHash ScramServer::verifier_for(std::string_view username) const {
  std::optional<PasswordHash> found = lookup_ ? lookup_(username) : std::nullopt;
  const bool usable = found && found->scheme == HashScheme::scram_sha256 && !found->salt.empty() &&
                      found->iterations > 0 && found->digest.size() == kScramKeyBytes &&
                      found->server_key.size() == kScramKeyBytes;
  return usable ? std::move(*found) : fake_verifier(username);
}

PasswordHash ScramServer::fake_verifier(std::string_view username) const {
  // Stable per user for the life of the process, so that asking twice does
  // not reveal an unknown user by a changing salt.
  const Digest salt = hmac_sha256(secret_, fmt::format("salt:{}", username));
  const Digest stored_key = hmac_sha256(secret_, fmt::format("stored:{}", username));
  const Digest server_key = hmac_sha256(secret_, fmt::format("server:{}", username));
  PasswordHash fake;
  fake.scheme = HashScheme::scram_sha256;
  fake.iterations = kDefaultScramIterations;
  fake.salt.assign(salt.begin(), salt.begin() + kScramSaltBytes);
  fake.digest.assign(stored_key.begin(), stored_key.end());
  fake.server_key.assign(server_key.begin(), server_key.end());
  return fake;
}

}  // namespace stellwerk::auth

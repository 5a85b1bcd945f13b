// The server side of SCRAM-SHA-256 (RFC 5802 with RFC 7677's hash), the
// challenge/response that MQTT 5 enhanced authentication carries in AUTH
// packets under the method name "SCRAM-SHA-256".
//
// The client proves it knows the password without sending it, and the server
// proves in turn that it holds the user's verifier. The server stores only
// that verifier (salt, iteration count, StoredKey, ServerKey; see
// password_hash.h), never the password. The expensive PBKDF2 is the client's
// work; a server step costs a few HMACs, cheap enough for an event loop.
//
// A ScramServer is one exchange: client-first -> server-first, client-final
// -> server-final. It does no I/O and reads no clock; the server's nonce comes
// from an injected generator so that tests reproduce RFC 7677's example. Every
// malformed message ends the exchange in failure with an "e=..." answer.
//
// No user enumeration: an unknown user, or one whose password file entry is
// not a SCRAM verifier ($7$, argon2id: the password cannot be recovered from
// them), gets a salt derived from a per-process secret and the default
// iteration count, and fails at the proof exactly like a wrong password.
//
// Not done: channel binding (SCRAM-SHA-256-PLUS) and SASLprep. User names are
// compared byte for byte; a client with a non-ASCII password must send the
// same bytes that `stellwerk passwd` hashed.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "auth/password_hash.h"

namespace stellwerk::auth {

inline constexpr std::string_view kScramSha256Method = "SCRAM-SHA-256";
inline constexpr size_t kScramKeyBytes = 32;  // SHA-256 output

struct ScramKeys {
  std::vector<uint8_t> stored_key;  // H(HMAC(SaltedPassword, "Client Key"))
  std::vector<uint8_t> server_key;  // HMAC(SaltedPassword, "Server Key")
};

// The verifier of `password`: SaltedPassword = PBKDF2-HMAC-SHA256(password,
// salt, iterations), then the two keys. CPU-heavy (a few milliseconds at 4096
// iterations): not for an event loop. nullopt when OpenSSL fails.
std::optional<ScramKeys> derive_scram_keys(std::string_view password, std::span<const uint8_t> salt,
                                           int iterations);

// The SCRAM verifier of `username`: a PasswordHash of scheme scram_sha256, or
// nullopt when the user is unknown or has no SCRAM verifier.
using ScramLookup = std::function<std::optional<PasswordHash>(std::string_view username)>;
// The server's half of the nonce: printable ASCII without ','.
using NonceSource = std::function<std::string()>;

// 18 random bytes from OpenSSL, base64: 144 bits of fresh nonce.
std::string random_scram_nonce();
// 32 random bytes drawn once per process, for unknown users' fake salts.
std::span<const uint8_t> scram_process_secret();

enum class ScramOutcome { proceed, success, failure };

struct ScramStep {
  ScramOutcome outcome = ScramOutcome::failure;
  std::string server_data;  // server-first, "v=<signature>", or "e=<error>"
};

class ScramServer {
 public:
  // `secret` keys the fake verifiers of unknown users; it is copied.
  ScramServer(ScramLookup lookup, NonceSource nonce, std::span<const uint8_t> secret);

  // Feeds the client's next message: client-first, then client-final. Any
  // call after success or failure fails.
  ScramStep step(std::string_view client_data);

  // The user name from client-first (unescaped); meaningful after success.
  const std::string& username() const { return username_; }

 private:
  enum class State { awaiting_client_first, awaiting_client_final, done };

  ScramStep on_client_first(std::string_view message);
  ScramStep on_client_final(std::string_view message);
  ScramStep failure(std::string_view error);
  PasswordHash verifier_for(std::string_view username) const;
  PasswordHash fake_verifier(std::string_view username) const;
  bool proof_matches(std::span<const uint8_t> proof, std::string_view auth_message) const;

  ScramLookup lookup_;
  NonceSource nonce_source_;
  std::vector<uint8_t> secret_;
  State state_ = State::awaiting_client_first;
  std::string username_;
  std::string gs2_header_;         // "n,," or "y,," with any authzid
  std::string client_first_bare_;  // client-first without the gs2 header
  std::string server_first_;
  std::string nonce_;  // client nonce + server nonce
  PasswordHash verifier_;
};

}  // namespace stellwerk::auth

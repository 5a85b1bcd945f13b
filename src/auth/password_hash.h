// Password hashes in the encodings mosquitto's password files use:
//
//   $6$<salt>$<digest>               SHA-512 of password then salt (mosquitto 1.x)
//   $7$<iterations>$<salt>$<digest>  PBKDF2-HMAC-SHA512 (mosquitto 2.x default)
//   $argon2id$v=19$m=..,t=..,p=..$<salt>$<digest>   argon2id PHC string
//   SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>
//                                    a SCRAM-SHA-256 verifier (RFC 5803's
//                                    layout, as PostgreSQL stores it)
//
// A SCRAM verifier serves both ways: a SCRAM exchange (scram.h), and a plain
// CONNECT password, whose StoredKey is derived and compared. The password
// file splits a line at its first ':', so the ':'s inside the verifier are
// safe there.
//
// Salts and digests of $6$ / $7$ / SCRAM are padded base64 of raw bytes, as
// mosquitto_passwd writes them. Verification compares in constant time.
// Every function here is pure apart from the random salt of hash_password().
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace stellwerk::auth {

enum class HashScheme { sha512, sha512_pbkdf2, argon2id, scram_sha256 };

// mosquitto 2.0's mosquitto_passwd: 101 PBKDF2 iterations, 12 bytes of salt.
inline constexpr int kDefaultPbkdf2Iterations = 101;
inline constexpr size_t kSaltBytes = 12;
inline constexpr size_t kSha512Bytes = 64;
// RFC 7677's minimum iteration count, and the salt PostgreSQL uses.
inline constexpr int kDefaultScramIterations = 4096;
inline constexpr size_t kScramSaltBytes = 16;

struct Argon2Cost {
  uint32_t time_cost = 2;           // passes
  uint32_t memory_kib = 19 * 1024;  // OWASP's minimum for argon2id
  uint32_t parallelism = 1;
};

struct HashSettings {
  HashScheme scheme = HashScheme::sha512_pbkdf2;
  int iterations = kDefaultPbkdf2Iterations;  // sha512_pbkdf2 only
  int scram_iterations = kDefaultScramIterations;  // scram_sha256 only
  Argon2Cost argon2;                          // argon2id only
};

struct PasswordHash {
  HashScheme scheme = HashScheme::sha512_pbkdf2;
  int iterations = 0;               // sha512_pbkdf2, scram_sha256
  std::vector<uint8_t> salt;        // sha512, sha512_pbkdf2, scram_sha256
  std::vector<uint8_t> digest;      // sha512, sha512_pbkdf2; StoredKey for scram_sha256
  std::vector<uint8_t> server_key;  // scram_sha256
  std::string phc;              // argon2id: the whole string, which libargon2 verifies
};

// True when `text` starts like one of the encodings above (used to tell a
// hashed entry from a plain-text one; parse_password_hash() validates).
bool looks_hashed(std::string_view text);

// Parses an encoded hash. The error says what is wrong with it, for a message
// that also names the file and line.
Result<PasswordHash, std::string> parse_password_hash(std::string_view encoded);

// The encoding parse_password_hash() reads back.
std::string encode_password_hash(const PasswordHash& hash);

// CPU-heavy (milliseconds for $7$ and argon2id): not for an event loop.
[[nodiscard]] bool verify_password(const PasswordHash& hash, std::string_view password);

// A new hash with a random salt from OpenSSL's generator.
Result<PasswordHash, std::string> hash_password(std::string_view password, const HashSettings& settings);

// The same with a given salt, so that tests can compare with known vectors.
Result<PasswordHash, std::string> hash_password_with_salt(std::string_view password,
                                                          std::span<const uint8_t> salt,
                                                          const HashSettings& settings);

}  // namespace stellwerk::auth

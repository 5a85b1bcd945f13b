// Parsing, verifying and creating password hashes; see password_hash.h.
// OpenSSL supplies SHA-512, PBKDF2, the constant-time compare and the salt;
// libargon2 parses and verifies the argon2id PHC string itself; scram.h
// derives SCRAM verifiers.
#include "auth/password_hash.h"

#include <argon2.h>
#include <fmt/format.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <charconv>
#include <memory>
#include <optional>

#include "base/base64.h"
#include "auth/scram.h"

namespace stellwerk::auth {
namespace {

constexpr std::string_view kSha512Prefix = "$6$";
constexpr std::string_view kPbkdf2Prefix = "$7$";
constexpr std::string_view kArgon2idPrefix = "$argon2id$";
constexpr std::string_view kScramPrefix = "SCRAM-SHA-256$";
// Limits that keep one verification from taking minutes or gigabytes, even
// when a file asks for it.
constexpr int kMaxPbkdf2Iterations = 10'000'000;
constexpr uint32_t kMaxArgon2MemoryKib = 1024 * 1024;
constexpr uint32_t kMaxArgon2TimeCost = 1000;
constexpr uint32_t kMaxArgon2Parallelism = 64;
constexpr size_t kArgon2SaltBytes = 16;
constexpr size_t kArgon2DigestBytes = 32;
constexpr size_t kArgon2MinSaltBytes = 8;

using HashResult = Result<PasswordHash, std::string>;

std::vector<std::string_view> split(std::string_view text, char separator) {
  std::vector<std::string_view> parts;
  for (size_t start = 0;;) {
    const size_t end = text.find(separator, start);
    parts.push_back(text.substr(start, end - start));
    if (end == std::string_view::npos) return parts;
    start = end + 1;
  }
}

template <typename Int>
std::optional<Int> parse_number(std::string_view text, Int max) {
  Int value{};
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc{} || end != text.data() + text.size() || value < 1 || value > max) {
    return std::nullopt;
  }
  return value;
}

bool same_bytes(std::span<const uint8_t> a, std::span<const uint8_t> b) {
  // Lengths are public (fixed by the scheme); only the contents are secret.
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::optional<std::vector<uint8_t>> sha512_salted(std::string_view password, std::span<const uint8_t> salt) {
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> context(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
  std::vector<uint8_t> digest(kSha512Bytes);
  unsigned int length = 0;
  if (!context || EVP_DigestInit_ex(context.get(), EVP_sha512(), nullptr) != 1 ||
      EVP_DigestUpdate(context.get(), password.data(), password.size()) != 1 ||
      EVP_DigestUpdate(context.get(), salt.data(), salt.size()) != 1 ||
      EVP_DigestFinal_ex(context.get(), digest.data(), &length) != 1 || length != digest.size()) {
    return std::nullopt;
  }
  return digest;
}

std::optional<std::vector<uint8_t>> pbkdf2_sha512(std::string_view password, std::span<const uint8_t> salt,
                                                  int iterations) {
  std::vector<uint8_t> digest(kSha512Bytes);
  if (PKCS5_PBKDF2_HMAC(password.data(), static_cast<int>(password.size()), salt.data(),
                        static_cast<int>(salt.size()), iterations, EVP_sha512(),
                        static_cast<int>(digest.size()), digest.data()) != 1) {
    return std::nullopt;
  }
  return digest;
}

// Decodes the salt and digest fields shared by $6$ and $7$.
Status<std::string> decode_salt_and_digest(std::string_view salt, std::string_view digest,
                                           PasswordHash& hash) {
  std::optional<std::vector<uint8_t>> salt_bytes = base64_decode(salt);
  if (!salt_bytes || salt_bytes->empty()) return fail(std::string("salt is not valid base64"));
  std::optional<std::vector<uint8_t>> digest_bytes = base64_decode(digest);
  if (!digest_bytes) return fail(std::string("digest is not valid base64"));
  if (digest_bytes->size() != kSha512Bytes) {
    return fail(
        fmt::format("digest has {} bytes, a SHA-512 digest has {}", digest_bytes->size(), kSha512Bytes));
  }
  hash.salt = std::move(*salt_bytes);
  hash.digest = std::move(*digest_bytes);
  return {};
}

HashResult parse_sha512(std::string_view body) {
  const std::vector<std::string_view> fields = split(body, '$');
  if (fields.size() != 2) return fail(std::string("expected $6$<salt>$<digest>"));
  PasswordHash hash;
  hash.scheme = HashScheme::sha512;
  if (Status<std::string> decoded = decode_salt_and_digest(fields[0], fields[1], hash); !decoded) {
    return fail(decoded.error());
  }
  return hash;
}

HashResult parse_pbkdf2(std::string_view body) {
  const std::vector<std::string_view> fields = split(body, '$');
  if (fields.size() != 3) return fail(std::string("expected $7$<iterations>$<salt>$<digest>"));
  const std::optional<int> iterations = parse_number(fields[0], kMaxPbkdf2Iterations);
  if (!iterations) {
    return fail(fmt::format("iterations '{}' is not a number from 1 to {}", fields[0], kMaxPbkdf2Iterations));
  }
  PasswordHash hash;
  hash.scheme = HashScheme::sha512_pbkdf2;
  hash.iterations = *iterations;
  if (Status<std::string> decoded = decode_salt_and_digest(fields[1], fields[2], hash); !decoded) {
    return fail(decoded.error());
  }
  return hash;
}

// Checks "m=<kib>,t=<passes>,p=<lanes>" against the limits above.
bool valid_argon2_costs(std::string_view text) {
  const std::vector<std::string_view> costs = split(text, ',');
  if (costs.size() != 3 || !costs[0].starts_with("m=") || !costs[1].starts_with("t=") ||
      !costs[2].starts_with("p=")) {
    return false;
  }
  return parse_number(costs[0].substr(2), kMaxArgon2MemoryKib) &&
         parse_number(costs[1].substr(2), kMaxArgon2TimeCost) &&
         parse_number(costs[2].substr(2), kMaxArgon2Parallelism);
}

// Checks the shape "[v=19$]m=..,t=..,p=..$<salt>$<digest>"; libargon2 reads the values.
HashResult parse_argon2id(std::string_view encoded) {
  std::vector<std::string_view> fields = split(encoded.substr(kArgon2idPrefix.size()), '$');
  if (!fields.empty() && fields.front().starts_with("v=")) {
    if (fields.front() != "v=19") return fail(fmt::format("unsupported argon2 version '{}'", fields.front()));
    fields.erase(fields.begin());
  }
  if (fields.size() != 3) return fail(std::string("expected $argon2id$v=19$m=..,t=..,p=..$<salt>$<digest>"));
  if (!valid_argon2_costs(fields[0])) {
    return fail(fmt::format("argon2 costs '{}' are not m=<1..{}>,t=<1..{}>,p=<1..{}>", fields[0],
                            kMaxArgon2MemoryKib, kMaxArgon2TimeCost, kMaxArgon2Parallelism));
  }
  const std::optional<std::vector<uint8_t>> salt = base64_decode(fields[1]);
  if (!salt || salt->size() < kArgon2MinSaltBytes)
    return fail(std::string("argon2 salt is not valid base64"));
  const std::optional<std::vector<uint8_t>> digest = base64_decode(fields[2]);
  if (!digest || digest->size() < 4) return fail(std::string("argon2 digest is not valid base64"));
  PasswordHash hash;
  hash.scheme = HashScheme::argon2id;
  hash.phc = std::string(encoded);
  return hash;
}

// "<iterations>:<salt>$<StoredKey>:<ServerKey>", after the prefix.
HashResult parse_scram(std::string_view body) {
  const std::string shape = "expected SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>";
  const std::vector<std::string_view> halves = split(body, '$');
  if (halves.size() != 2) return fail(shape);
  const std::vector<std::string_view> first = split(halves[0], ':');
  const std::vector<std::string_view> second = split(halves[1], ':');
  if (first.size() != 2 || second.size() != 2) return fail(shape);
  const std::optional<int> iterations = parse_number(first[0], kMaxPbkdf2Iterations);
  if (!iterations) {
    return fail(fmt::format("iterations '{}' is not a number from 1 to {}", first[0], kMaxPbkdf2Iterations));
  }
  std::optional<std::vector<uint8_t>> salt = base64_decode(first[1]);
  if (!salt || salt->empty()) return fail(std::string("salt is not valid base64"));
  std::optional<std::vector<uint8_t>> stored_key = base64_decode(second[0]);
  std::optional<std::vector<uint8_t>> server_key = base64_decode(second[1]);
  if (!stored_key || !server_key || stored_key->size() != kScramKeyBytes ||
      server_key->size() != kScramKeyBytes) {
    return fail(fmt::format("StoredKey and ServerKey must be base64 of {} bytes each", kScramKeyBytes));
  }
  PasswordHash hash;
  hash.scheme = HashScheme::scram_sha256;
  hash.iterations = *iterations;
  hash.salt = std::move(*salt);
  hash.digest = std::move(*stored_key);
  hash.server_key = std::move(*server_key);
  return hash;
}

HashResult hash_scram(std::string_view password, std::span<const uint8_t> salt, int iterations) {
  if (iterations < 1 || iterations > kMaxPbkdf2Iterations) {
    return fail(fmt::format("iterations must be from 1 to {}", kMaxPbkdf2Iterations));
  }
  std::optional<ScramKeys> keys = derive_scram_keys(password, salt, iterations);
  if (!keys) return fail(std::string("OpenSSL could not compute the hash"));
  PasswordHash hash;
  hash.scheme = HashScheme::scram_sha256;
  hash.iterations = iterations;
  hash.salt.assign(salt.begin(), salt.end());
  hash.digest = std::move(keys->stored_key);
  hash.server_key = std::move(keys->server_key);
  return hash;
}

HashResult hash_argon2id(std::string_view password, std::span<const uint8_t> salt, const Argon2Cost& cost) {
  const size_t length = argon2_encodedlen(cost.time_cost, cost.memory_kib, cost.parallelism,
                                          static_cast<uint32_t>(salt.size()), kArgon2DigestBytes, Argon2_id);
  std::string encoded(length, '\0');
  const int rc = argon2id_hash_encoded(cost.time_cost, cost.memory_kib, cost.parallelism, password.data(),
                                       password.size(), salt.data(), salt.size(), kArgon2DigestBytes,
                                       encoded.data(), encoded.size());
  if (rc != ARGON2_OK) return fail(fmt::format("argon2id failed: {}", argon2_error_message(rc)));
  encoded.resize(encoded.find('\0'));
  PasswordHash hash;
  hash.scheme = HashScheme::argon2id;
  hash.phc = std::move(encoded);
  return hash;
}

}  // namespace

bool looks_hashed(std::string_view text) {
  return text.starts_with(kSha512Prefix) || text.starts_with(kPbkdf2Prefix) ||
         text.starts_with(kArgon2idPrefix) || text.starts_with(kScramPrefix);
}

Result<PasswordHash, std::string> parse_password_hash(std::string_view encoded) {
  if (encoded.starts_with(kSha512Prefix)) return parse_sha512(encoded.substr(kSha512Prefix.size()));
  if (encoded.starts_with(kPbkdf2Prefix)) return parse_pbkdf2(encoded.substr(kPbkdf2Prefix.size()));
  if (encoded.starts_with(kArgon2idPrefix)) return parse_argon2id(encoded);
  if (encoded.starts_with(kScramPrefix)) return parse_scram(encoded.substr(kScramPrefix.size()));
  return fail(std::string("unknown password hash type (expected $6$, $7$, $argon2id$ or SCRAM-SHA-256$)"));
}

std::string encode_password_hash(const PasswordHash& hash) {
  const std::string salt = base64_encode(hash.salt, Base64Padding::with_padding);
  const std::string digest = base64_encode(hash.digest, Base64Padding::with_padding);
  switch (hash.scheme) {
    case HashScheme::sha512:
      return fmt::format("{}{}${}", kSha512Prefix, salt, digest);
    case HashScheme::sha512_pbkdf2:
      return fmt::format("{}{}${}${}", kPbkdf2Prefix, hash.iterations, salt, digest);
    case HashScheme::argon2id:
      return hash.phc;
    case HashScheme::scram_sha256:
      return fmt::format("{}{}:{}${}:{}", kScramPrefix, hash.iterations, salt, digest,
                         base64_encode(hash.server_key, Base64Padding::with_padding));
  }
  return {};
}

bool verify_password(const PasswordHash& hash, std::string_view password) {
  switch (hash.scheme) {
    case HashScheme::sha512: {
      const std::optional<std::vector<uint8_t>> digest = sha512_salted(password, hash.salt);
      return digest && same_bytes(*digest, hash.digest);
    }
    case HashScheme::sha512_pbkdf2: {
      const std::optional<std::vector<uint8_t>> digest = pbkdf2_sha512(password, hash.salt, hash.iterations);
      return digest && same_bytes(*digest, hash.digest);
    }
    case HashScheme::argon2id:
      // libargon2 compares the digests in constant time itself.
      return argon2id_verify(hash.phc.c_str(), password.data(), password.size()) == ARGON2_OK;
    case HashScheme::scram_sha256: {
      const std::optional<ScramKeys> keys = derive_scram_keys(password, hash.salt, hash.iterations);
      return keys && same_bytes(keys->stored_key, hash.digest);
    }
  }
  return false;
}

Result<PasswordHash, std::string> hash_password(std::string_view password, const HashSettings& settings) {
  size_t salt_bytes = kSaltBytes;
  if (settings.scheme == HashScheme::argon2id) salt_bytes = kArgon2SaltBytes;
  if (settings.scheme == HashScheme::scram_sha256) salt_bytes = kScramSaltBytes;
  std::vector<uint8_t> salt(salt_bytes);
  if (RAND_bytes(salt.data(), static_cast<int>(salt.size())) != 1) {
    return fail(std::string("the random number generator failed"));
  }
  return hash_password_with_salt(password, salt, settings);
}

Result<PasswordHash, std::string> hash_password_with_salt(std::string_view password,
                                                          std::span<const uint8_t> salt,
                                                          const HashSettings& settings) {
  if (salt.empty()) return fail(std::string("empty salt"));
  PasswordHash hash;
  hash.scheme = settings.scheme;
  hash.salt.assign(salt.begin(), salt.end());
  std::optional<std::vector<uint8_t>> digest;
  switch (settings.scheme) {
    case HashScheme::argon2id:
      return hash_argon2id(password, salt, settings.argon2);
    case HashScheme::scram_sha256:
      return hash_scram(password, salt, settings.scram_iterations);
    case HashScheme::sha512:
      digest = sha512_salted(password, salt);
      break;
    case HashScheme::sha512_pbkdf2:
      if (settings.iterations < 1 || settings.iterations > kMaxPbkdf2Iterations) {
        return fail(fmt::format("iterations must be from 1 to {}", kMaxPbkdf2Iterations));
      }
      hash.iterations = settings.iterations;
      digest = pbkdf2_sha512(password, salt, settings.iterations);
      break;
  }
  if (!digest) return fail(std::string("OpenSSL could not compute the hash"));
  hash.digest = std::move(*digest);
  return hash;
}

}  // namespace stellwerk::auth

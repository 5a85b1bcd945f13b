// Password hashes: mosquitto's encodings read, verified and written back.
// The $6$ / $7$ vectors were made by Debian's mosquitto_passwd 2.0.11 or
// computed independently with Python's hashlib (salt "0123456789ab").
#include "auth/password_hash.h"

#include <gtest/gtest.h>

#include <string>

namespace stellwerk::auth {
namespace {

// mosquitto_passwd -b: alice/secret ($7$), carol/old (-H sha512).
constexpr std::string_view kMosquittoPbkdf2 =
    "$7$101$FVEGtatO4SEJvUZt$VT6IEMiEHZm4gO8JLyt+DeKASL8MIevlofvA3PDKLJE8lW6+YKHopojnvZrzuFu+"
    "GEnuZhe2mPSt0BNIfDxTXA==";
constexpr std::string_view kMosquittoSha512 =
    "$6$XX4vY0RiLI6fxB8x$/L6jCCl+fHnTJeM4QrYHa1euvCgEDJEF4zqQvFj6sPh9Uqdf4/"
    "FfvgM9aznakDzaJfwW+wPGFZYlvK8eNv0CGw==";
// hashlib.pbkdf2_hmac("sha512", b"secret", b"0123456789ab", 101) and sha512(b"secret" + salt).
constexpr std::string_view kPythonPbkdf2 =
    "$7$101$MDEyMzQ1Njc4OWFi$EO/"
    "lLlkeUgIiBaS8G8UK0ZMP1u508TA7Tl+AdJ1cEsmlbGyEPAERErpfq84j1kepISs0UzmcdL4ucgZ2uodxfQ==";
constexpr std::string_view kPythonPbkdf2Iterations1000 =
    "$7$1000$MDEyMzQ1Njc4OWFi$ZJEeM8haE9d5XdQRkROfY+VNm95TyLII2wMF7gvAreqXSheCQReksJ+"
    "3flNZrfPrV1dYquIBGQmTU89cHgTqUg==";
constexpr std::string_view kPythonSha512 =
    "$6$MDEyMzQ1Njc4OWFi$qEXipeLbgxRlwd06QHfY5WITkUZg0jLg9SZbXzq3ifXjfj+v3GbJGrSfC5PAg3UNCS+"
    "UFfbhUIZX4bmIAs330w==";
// The argon2 reference implementation's test vector: "password", salt "somesalt".
constexpr std::string_view kArgon2Reference =
    "$argon2id$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc";

constexpr uint8_t kSalt[] = {'0', '1', '2', '3', '4', '5', '6', '7', '8', '9', 'a', 'b'};

PasswordHash parsed(std::string_view encoded) {
  Result<PasswordHash, std::string> hash = parse_password_hash(encoded);
  EXPECT_TRUE(hash.ok()) << encoded << ": " << (hash.ok() ? "" : hash.error());
  return hash.ok() ? *hash : PasswordHash{};
}

TEST(PasswordHash, VerifiesMosquittoPbkdf2) {
  const PasswordHash hash = parsed(kMosquittoPbkdf2);
  EXPECT_EQ(hash.scheme, HashScheme::sha512_pbkdf2);
  EXPECT_EQ(hash.iterations, 101);
  EXPECT_EQ(hash.salt.size(), kSaltBytes);
  EXPECT_TRUE(verify_password(hash, "secret"));
  EXPECT_FALSE(verify_password(hash, "Secret"));
  EXPECT_FALSE(verify_password(hash, "secret "));
  EXPECT_FALSE(verify_password(hash, ""));
}

TEST(PasswordHash, VerifiesMosquittoSha512) {
  const PasswordHash hash = parsed(kMosquittoSha512);
  EXPECT_EQ(hash.scheme, HashScheme::sha512);
  EXPECT_TRUE(verify_password(hash, "old"));
  EXPECT_FALSE(verify_password(hash, "new"));
}

TEST(PasswordHash, WritesWhatPythonComputes) {
  HashSettings pbkdf2;
  Result<PasswordHash, std::string> made = hash_password_with_salt("secret", kSalt, pbkdf2);
  ASSERT_TRUE(made.ok());
  EXPECT_EQ(encode_password_hash(*made), kPythonPbkdf2);

  pbkdf2.iterations = 1000;
  made = hash_password_with_salt("secret", kSalt, pbkdf2);
  ASSERT_TRUE(made.ok());
  EXPECT_EQ(encode_password_hash(*made), kPythonPbkdf2Iterations1000);

  made = hash_password_with_salt("secret", kSalt, HashSettings{.scheme = HashScheme::sha512});
  ASSERT_TRUE(made.ok());
  EXPECT_EQ(encode_password_hash(*made), kPythonSha512);
}

TEST(PasswordHash, EncodingRoundTrips) {
  for (const std::string_view encoded :
       {kMosquittoPbkdf2, kMosquittoSha512, kPythonPbkdf2, kArgon2Reference}) {
    EXPECT_EQ(encode_password_hash(parsed(encoded)), encoded);
  }
}

TEST(PasswordHash, VerifiesArgon2idReferenceVector) {
  const PasswordHash hash = parsed(kArgon2Reference);
  EXPECT_EQ(hash.scheme, HashScheme::argon2id);
  EXPECT_TRUE(verify_password(hash, "password"));
  EXPECT_FALSE(verify_password(hash, "passwore"));
}

TEST(PasswordHash, NewHashesUseFreshSaltsAndVerify) {
  for (const HashScheme scheme : {HashScheme::sha512, HashScheme::sha512_pbkdf2, HashScheme::argon2id}) {
    HashSettings settings{.scheme = scheme};
    settings.argon2.memory_kib = 1024;  // keep the test fast
    Result<PasswordHash, std::string> first = hash_password("pa:ss word", settings);
    Result<PasswordHash, std::string> second = hash_password("pa:ss word", settings);
    ASSERT_TRUE(first.ok() && second.ok());
    EXPECT_NE(encode_password_hash(*first), encode_password_hash(*second));
    const PasswordHash reread = parsed(encode_password_hash(*first));
    EXPECT_TRUE(verify_password(reread, "pa:ss word"));
    EXPECT_FALSE(verify_password(reread, "pa:ss word!"));
  }
}

TEST(PasswordHash, DefaultIsMosquittoTwoZero) {
  Result<PasswordHash, std::string> made = hash_password("x", HashSettings{});
  ASSERT_TRUE(made.ok());
  EXPECT_TRUE(encode_password_hash(*made).starts_with("$7$101$"));
  EXPECT_EQ(made->salt.size(), 12u);
  EXPECT_EQ(made->digest.size(), 64u);
}

TEST(PasswordHash, RejectsMalformedEncodings) {
  const std::string_view bad[] = {
      "",
      "plain",
      "$5$abc$def",                                          // unknown scheme
      "$7$",                                                 // no fields
      "$7$101$MDEyMzQ1Njc4OWFi",                             // no digest
      "$7$abc$MDEyMzQ1Njc4OWFi$AAAA",                        // iterations not a number
      "$7$0$MDEyMzQ1Njc4OWFi$AAAA",                          // zero iterations
      "$7$-5$MDEyMzQ1Njc4OWFi$AAAA",                         // negative iterations
      "$7$99999999999$MDEyMzQ1Njc4OWFi$AAAA",                // beyond the limit
      "$7$101$!!!!$AAAA",                                    // salt not base64
      "$7$101$$AAAA",                                        // empty salt
      "$7$101$MDEyMzQ1Njc4OWFi$AAAA",                        // digest too short
      "$6$MDEyMzQ1Njc4OWFi$qEXipeLbgxRlwd06QHfY5WITkUZg0j",  // digest truncated
      "$6$a$b$c",                                            // too many fields
      "$argon2id$v=19$m=65536,t=2$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc",  // no p
      "$argon2id$v=16$m=65536,t=2,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc",
      "$argon2id$v=19$m=99999999,t=2,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc",
      "$argon2id$v=19$m=65536,t=2,p=1$c2Fs$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc",  // salt < 8 bytes
      "$argon2i$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc",
  };
  for (const std::string_view encoded : bad) {
    Result<PasswordHash, std::string> hash = parse_password_hash(encoded);
    EXPECT_FALSE(hash.ok()) << encoded;
    if (!hash.ok()) {
      EXPECT_FALSE(hash.error().empty());
    }
  }
}

TEST(PasswordHash, TellsHashedFromPlain) {
  EXPECT_TRUE(looks_hashed(kMosquittoPbkdf2));
  EXPECT_TRUE(looks_hashed(kMosquittoSha512));
  EXPECT_TRUE(looks_hashed(kArgon2Reference));
  EXPECT_FALSE(looks_hashed("hunter2"));
  EXPECT_FALSE(looks_hashed("$1$md5crypt"));
}

}  // namespace
}  // namespace stellwerk::auth

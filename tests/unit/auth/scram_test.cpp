// SCRAM-SHA-256: RFC 7677's example exchange reproduced byte for byte, the
// stored verifier format, user name escapes, every malformed message, wrong
// proofs and unknown users (which must look like known ones).
#include "auth/scram.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include <map>
#include <string>

#include "base/base64.h"
#include "auth/password_file.h"

namespace stellwerk::auth {
namespace {

// RFC 7677 section 3: user "user", password "pencil".
constexpr std::string_view kClientFirst = "n,,n=user,r=rOprNGfwEbeRWgbNEkqO";
constexpr std::string_view kServerNonce = "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0";
constexpr std::string_view kServerFirst =
    "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096";
constexpr std::string_view kClientFinal =
    "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+"
    "Ute9ytag9zjfMHgsqmmiz7AndVQ=";
constexpr std::string_view kServerFinal = "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=";
// The verifier of "pencil" with the example's salt, as `stellwerk passwd -H scram-sha-256` writes it.
constexpr std::string_view kPencilVerifier =
    "SCRAM-SHA-256$4096:W22ZaJ0SNY7soEsUEjb6gQ==$WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY=:"
    "wfPLwcE6nTWhTAmQ7tl2KeoiWGPlZqQxSrmfPwDl2dU=";
constexpr uint8_t kSecret[32] = {7, 7, 7};

PasswordHash pencil() {
  Result<PasswordHash, std::string> hash = parse_password_hash(kPencilVerifier);
  EXPECT_TRUE(hash.ok());
  return hash.ok() ? *hash : PasswordHash{};
}

// A server whose users are in `users`, answering with RFC 7677's server nonce.
class ScramFixture {
 public:
  explicit ScramFixture(std::map<std::string, PasswordHash> users = {{"user", pencil()}})
      : users_(std::move(users)),
        server([this](std::string_view name) { return lookup(name); },
               [] { return std::string(kServerNonce); }, kSecret) {}

  std::optional<PasswordHash> lookup(std::string_view name) {
    looked_up.emplace_back(name);
    auto it = users_.find(std::string(name));
    if (it == users_.end()) return std::nullopt;
    return it->second;
  }

  std::map<std::string, PasswordHash> users_;
  std::vector<std::string> looked_up;
  ScramServer server;
};

std::array<uint8_t, 32> hmac(std::span<const uint8_t> key, std::string_view data) {
  std::array<uint8_t, 32> out{};
  unsigned int length = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), reinterpret_cast<const uint8_t*>(data.data()),
       data.size(), out.data(), &length);
  return out;
}

// The client's side, written from RFC 5802 section 3, to answer a server-first.
std::string client_final(std::string_view password, std::string_view client_first_bare,
                         std::string_view server_first, std::string_view binding = "biws",
                         std::string_view extension = "") {
  const size_t salt_at = server_first.find(",s=") + 3;
  const size_t count_at = server_first.find(",i=");
  const std::vector<uint8_t> salt = *base64_decode(server_first.substr(salt_at, count_at - salt_at));
  const int iterations = std::stoi(std::string(server_first.substr(count_at + 3)));
  std::array<uint8_t, 32> salted{};
  PKCS5_PBKDF2_HMAC(password.data(), static_cast<int>(password.size()), salt.data(),
                    static_cast<int>(salt.size()), iterations, EVP_sha256(), 32, salted.data());
  const std::array<uint8_t, 32> client_key = hmac(salted, "Client Key");
  std::array<uint8_t, 32> stored_key{};
  SHA256(client_key.data(), client_key.size(), stored_key.data());
  const std::string nonce(server_first.substr(2, salt_at - 3 - 2));
  const std::string without_proof = "c=" + std::string(binding) + ",r=" + nonce + std::string(extension);
  const std::string auth_message =
      std::string(client_first_bare) + "," + std::string(server_first) + "," + without_proof;
  const std::array<uint8_t, 32> signature = hmac(stored_key, auth_message);
  std::array<uint8_t, 32> proof{};
  for (size_t i = 0; i < proof.size(); ++i) proof[i] = client_key[i] ^ signature[i];
  return without_proof + ",p=" + base64_encode(proof, Base64Padding::with_padding);
}

TEST(Scram, Rfc7677ExampleReproducesExactly) {
  ScramFixture f;
  ScramStep first = f.server.step(kClientFirst);
  EXPECT_EQ(first.outcome, ScramOutcome::proceed);
  EXPECT_EQ(first.server_data, kServerFirst);
  ScramStep final_step = f.server.step(kClientFinal);
  EXPECT_EQ(final_step.outcome, ScramOutcome::success);
  EXPECT_EQ(final_step.server_data, kServerFinal);
  EXPECT_EQ(f.server.username(), "user");
}

TEST(Scram, DerivedKeysMatchTheExampleVerifier) {
  const PasswordHash stored = pencil();
  std::optional<ScramKeys> keys = derive_scram_keys("pencil", stored.salt, 4096);
  ASSERT_TRUE(keys);
  EXPECT_EQ(keys->stored_key, stored.digest);
  EXPECT_EQ(keys->server_key, stored.server_key);
  Result<PasswordHash, std::string> made = hash_password_with_salt(
      "pencil", stored.salt, HashSettings{.scheme = HashScheme::scram_sha256, .scram_iterations = 4096});
  ASSERT_TRUE(made.ok());
  EXPECT_EQ(encode_password_hash(*made), kPencilVerifier);
  EXPECT_FALSE(derive_scram_keys("pencil", stored.salt, 0));
  EXPECT_FALSE(derive_scram_keys("pencil", {}, 4096));
}

TEST(Scram, VerifierServesPlainPasswordsToo) {
  const PasswordHash stored = pencil();
  EXPECT_TRUE(verify_password(stored, "pencil"));
  EXPECT_FALSE(verify_password(stored, "pencil "));
  EXPECT_FALSE(verify_password(stored, ""));
  EXPECT_TRUE(looks_hashed(kPencilVerifier));
}

TEST(Scram, NewVerifierHasRandomSaltAndDefaultIterations) {
  Result<PasswordHash, std::string> made =
      hash_password("s3cret", HashSettings{.scheme = HashScheme::scram_sha256});
  ASSERT_TRUE(made.ok());
  EXPECT_EQ(made->iterations, kDefaultScramIterations);
  EXPECT_EQ(made->salt.size(), kScramSaltBytes);
  Result<PasswordHash, std::string> again = parse_password_hash(encode_password_hash(*made));
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(verify_password(*again, "s3cret"));
  EXPECT_FALSE(
      hash_password("x", HashSettings{.scheme = HashScheme::scram_sha256, .scram_iterations = 0}).ok());
}

TEST(Scram, VerifierFitsThePasswordFileLine) {
  Result<PasswordFile, Error> file = PasswordFile::parse("user:" + std::string(kPencilVerifier) + "\n");
  ASSERT_TRUE(file.ok());
  ASSERT_NE(file->find("user"), nullptr);
  EXPECT_EQ(file->find("user")->scheme, HashScheme::scram_sha256);
  EXPECT_EQ(file->find("nobody"), nullptr);
  EXPECT_TRUE(file->verify("user", "pencil"));
}

TEST(Scram, MalformedVerifiersAreRefused) {
  const char* bad[] = {
      "SCRAM-SHA-256$",
      "SCRAM-SHA-256$4096:W22ZaJ0SNY7soEsUEjb6gQ==",                           // no keys
      "SCRAM-SHA-256$4096$WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY=:AAAA",  // no salt
      "SCRAM-SHA-256$0:W22ZaJ0SNY7soEsUEjb6gQ==$WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY=:"
      "wfPLwcE6nTWhTAmQ7tl2KeoiWGPlZqQxSrmfPwDl2dU=",  // zero iterations
      "SCRAM-SHA-256$x:W22ZaJ0SNY7soEsUEjb6gQ==$WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY=:"
      "wfPLwcE6nTWhTAmQ7tl2KeoiWGPlZqQxSrmfPwDl2dU=",  // not a number
      "SCRAM-SHA-256$4096:!!$WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY=:"
      "wfPLwcE6nTWhTAmQ7tl2KeoiWGPlZqQxSrmfPwDl2dU=",  // salt not base64
      "SCRAM-SHA-256$4096:W22ZaJ0SNY7soEsUEjb6gQ==$AAAA:wfPLwcE6nTWhTAmQ7tl2KeoiWGPlZqQxSrmfPwDl2dU=",  // short
      "SCRAM-SHA-256$4096:W22ZaJ0SNY7soEsUEjb6gQ==$WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY=",  // one key
      "SCRAM-SHA-256$4096:W22ZaJ0SNY7soEsUEjb6gQ==$WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY=:"
      "wfPLwcE6nTWhTAmQ7tl2KeoiWGPlZqQxSrmfPwDl2dU=$x",  // extra field
      "SCRAM-SHA-256$4096:a:b$c:d",                      // extra ':'
  };
  for (const char* encoded : bad) {
    Result<PasswordHash, std::string> hash = parse_password_hash(encoded);
    EXPECT_FALSE(hash.ok()) << encoded;
  }
}

TEST(Scram, GeneratedClientCompletesTheExchange) {
  ScramFixture f;
  ScramStep first = f.server.step("n,,n=user,r=abcdef");
  ASSERT_EQ(first.outcome, ScramOutcome::proceed);
  ScramStep done = f.server.step(client_final("pencil", "n=user,r=abcdef", first.server_data));
  EXPECT_EQ(done.outcome, ScramOutcome::success);
  EXPECT_TRUE(done.server_data.starts_with("v="));
}

TEST(Scram, WrongPasswordFailsWithInvalidProof) {
  ScramFixture f;
  ScramStep first = f.server.step("n,,n=user,r=abcdef");
  ScramStep done = f.server.step(client_final("pen", "n=user,r=abcdef", first.server_data));
  EXPECT_EQ(done.outcome, ScramOutcome::failure);
  EXPECT_EQ(done.server_data, "e=invalid-proof");
  // The exchange is over: nothing more is accepted.
  EXPECT_EQ(f.server.step(kClientFinal).outcome, ScramOutcome::failure);
}

TEST(Scram, UsernameEscapesAreDecoded) {
  ScramFixture f({{"a,b=c", pencil()}});
  ScramStep first = f.server.step("n,,n=a=2Cb=3Dc,r=abc");
  ASSERT_EQ(first.outcome, ScramOutcome::proceed);
  ASSERT_EQ(f.looked_up.size(), 1u);
  EXPECT_EQ(f.looked_up[0], "a,b=c");
  ScramStep done = f.server.step(client_final("pencil", "n=a=2Cb=3Dc,r=abc", first.server_data));
  EXPECT_EQ(done.outcome, ScramOutcome::success);
  EXPECT_EQ(f.server.username(), "a,b=c");
}

TEST(Scram, BadUsernameEscapesFail) {
  for (const char* message : {"n,,n=a=2Xb,r=abc", "n,,n=ab=,r=abc", "n,,n=ab=2,r=abc", "n,,n=,r=abc"}) {
    ScramFixture f;
    ScramStep step = f.server.step(message);
    EXPECT_EQ(step.outcome, ScramOutcome::failure) << message;
    EXPECT_EQ(step.server_data, "e=invalid-username-encoding") << message;
  }
}

TEST(Scram, MalformedClientFirstFails) {
  const std::pair<std::string, std::string_view> cases[] = {
      {"", "e=invalid-encoding"},
      {"n", "e=invalid-encoding"},
      {"n,", "e=invalid-encoding"},
      {"x,,n=user,r=abc", "e=invalid-encoding"},
      {"p=tls-unique,,n=user,r=abc", "e=channel-binding-not-supported"},
      {"n,,m=ext,n=user,r=abc", "e=extensions-not-supported"},
      {"n,,n=user", "e=invalid-encoding"},
      {"n,,r=abc,n=user", "e=invalid-encoding"},
      {"n,,n=user,r=", "e=invalid-encoding"},
      {"n,,n=user,r=a\x01z", "e=invalid-encoding"},
      {"n,,n=user,r=a z", "e=invalid-encoding"},
      {"n,,n=user,r=abc,bad", "e=invalid-encoding"},
      {"n,,n=user,r=abc,", "e=invalid-encoding"},
      {"n,n=user,r=abc", "e=invalid-encoding"},
      {"n,b=user,n=user,r=abc", "e=invalid-encoding"},
      {"n,a=other,n=user,r=abc", "e=other-error"},
      {std::string("n,,n=us\0er,r=abc", 16), "e=invalid-username-encoding"},
  };
  for (const auto& [message, error] : cases) {
    ScramFixture f;
    ScramStep step = f.server.step(message);
    EXPECT_EQ(step.outcome, ScramOutcome::failure) << message;
    EXPECT_EQ(step.server_data, error) << message;
  }
}

TEST(Scram, AcceptedClientFirstVariants) {
  // "y": the client could bind the channel but thinks we cannot; c= repeats "y,,".
  ScramFixture y;
  ScramStep first = y.server.step("y,,n=user,r=abc");
  ASSERT_EQ(first.outcome, ScramOutcome::proceed);
  EXPECT_EQ(y.server.step(client_final("pencil", "n=user,r=abc", first.server_data, "eSws")).outcome,
            ScramOutcome::success);
  // An authzid naming the user itself, and an extension, are fine.
  ScramFixture a;
  first = a.server.step("n,a=user,n=user,r=abc,x=ext");
  ASSERT_EQ(first.outcome, ScramOutcome::proceed);
  EXPECT_EQ(
      a.server.step(client_final("pencil", "n=user,r=abc,x=ext", first.server_data, "bixhPXVzZXIs")).outcome,
      ScramOutcome::success);
}

TEST(Scram, MalformedClientFinalFails) {
  const std::string nonce = "rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0";
  const std::string proof = "p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=";
  const std::pair<std::string, std::string_view> cases[] = {
      {"", "e=invalid-encoding"},
      {"c=biws,r=" + nonce, "e=invalid-encoding"},                           // no proof
      {"r=" + nonce + ",c=biws," + proof, "e=invalid-encoding"},             // order
      {"c=biws," + proof, "e=invalid-encoding"},                             // no nonce
      {"c=b!ws,r=" + nonce + "," + proof, "e=invalid-encoding"},             // c= not base64
      {"c=eSws,r=" + nonce + "," + proof, "e=channel-bindings-dont-match"},  // "y,," but sent "n,,"
      {"c=biws,r=" + nonce + "x," + proof, "e=other-error"},                 // nonce changed
      {"c=biws,r=rOprNGfwEbeRWgbNEkqO," + proof, "e=other-error"},           // server half dropped
      {"c=biws,r=" + nonce + ",p=!!!!", "e=invalid-encoding"},               // proof not base64
      {"c=biws,r=" + nonce + ",p=AAAA", "e=invalid-proof"},                  // proof too short
      {"c=biws,r=" + nonce + ",x," + proof, "e=invalid-encoding"},           // bad extension
      {"c=biws,r=" + nonce + ",p=eHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=", "e=invalid-proof"},
  };
  for (const auto& [message, error] : cases) {
    ScramFixture f;
    ASSERT_EQ(f.server.step(kClientFirst).outcome, ScramOutcome::proceed);
    ScramStep step = f.server.step(message);
    EXPECT_EQ(step.outcome, ScramOutcome::failure) << message;
    EXPECT_EQ(step.server_data, error) << message;
  }
}

TEST(Scram, ExtensionBeforeProofIsIgnored) {
  ScramFixture f;
  ScramStep first = f.server.step("n,,n=user,r=abc");
  // The extension is part of the signed AuthMessage on both sides.
  EXPECT_EQ(f.server.step(client_final("pencil", "n=user,r=abc", first.server_data, "biws", ",x=1")).outcome,
            ScramOutcome::success);
}

TEST(Scram, UnknownUserLooksLikeAKnownOne) {
  ScramFixture f;
  ScramStep first = f.server.step("n,,n=nobody,r=abc");
  ASSERT_EQ(first.outcome, ScramOutcome::proceed);
  EXPECT_TRUE(first.server_data.ends_with(",i=4096"));
  const size_t salt_at = first.server_data.find(",s=") + 3;
  const std::string salt = first.server_data.substr(salt_at, first.server_data.find(",i=") - salt_at);
  EXPECT_EQ(base64_decode(salt)->size(), kScramSaltBytes);
  ScramStep done = f.server.step(client_final("anything", "n=nobody,r=abc", first.server_data));
  EXPECT_EQ(done.outcome, ScramOutcome::failure);
  EXPECT_EQ(done.server_data, "e=invalid-proof");
  // Asking again gives the same salt (a changing one would give the user away); another name, another salt.
  ScramFixture again;
  EXPECT_EQ(again.server.step("n,,n=nobody,r=abc").server_data, first.server_data);
  ScramFixture other;
  EXPECT_EQ(other.server.step("n,,n=nobody2,r=abc").server_data.find(salt), std::string::npos);
}

TEST(Scram, NonScramEntryFailsLikeAnUnknownUser) {
  Result<PasswordHash, std::string> pbkdf2 =
      hash_password("pencil", HashSettings{.scheme = HashScheme::sha512_pbkdf2});
  ASSERT_TRUE(pbkdf2.ok());
  ScramFixture f({{"user", *pbkdf2}});
  ScramStep first = f.server.step("n,,n=user,r=abc");
  ASSERT_EQ(first.outcome, ScramOutcome::proceed);
  ScramStep done = f.server.step(client_final("pencil", "n=user,r=abc", first.server_data));
  EXPECT_EQ(done.outcome, ScramOutcome::failure);
  EXPECT_EQ(done.server_data, "e=invalid-proof");
}

TEST(Scram, MissingServerNonceFails) {
  ScramServer server([](std::string_view) { return std::optional<PasswordHash>(pencil()); },
                     [] { return std::string(); }, kSecret);
  EXPECT_EQ(server.step(kClientFirst).server_data, "e=no-resources");
}

TEST(Scram, RandomNonceIsPrintableAndFresh) {
  const std::string a = random_scram_nonce();
  const std::string b = random_scram_nonce();
  EXPECT_EQ(a.size(), 24u);
  EXPECT_NE(a, b);
  EXPECT_EQ(a.find(','), std::string::npos);
  EXPECT_EQ(scram_process_secret().size(), 32u);
  EXPECT_EQ(scram_process_secret().data(), scram_process_secret().data());
}

}  // namespace
}  // namespace stellwerk::auth

// libFuzzer target for the access-control input: mosquitto password files, ACL
// files, and the SCRAM-SHA-256 messages of MQTT 5 enhanced authentication. Whatever the bytes, parsing ends in
// a value or an error naming the line, never a crash; an ACL that parsed then
// answers questions about arbitrary identities and topics (ids and user names
// with + # / included), which must not crash either.
//
// Input layout: selector:u8 | body. Selector % 3 == 0: body is a password
// file. 1: body is "acl text \0 client id \0 username \0 topic", and every
// check is asked of that identity and topic. 2: body is "stored hash \0
// client-first \0 client-final", fed to a SCRAM server whose only user has
// that hash. File hashes are parsed, never verified (a hash may name millions
// of iterations); the SCRAM user's iteration count is whatever the fuzzer
// wrote, so only hashes with at most 4,096 iterations are used.
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "auth/acl_file.h"
#include "auth/password_file.h"
#include "auth/password_hash.h"
#include "auth/scram.h"
#include "quiet_log.h"

namespace {

using namespace stellwerk::auth;

std::vector<std::string_view> split_on_nul(std::string_view text, size_t parts) {
  std::vector<std::string_view> out;
  while (out.size() + 1 < parts) {
    const size_t at = text.find('\0');
    if (at == std::string_view::npos) break;
    out.push_back(text.substr(0, at));
    text.remove_prefix(at + 1);
  }
  out.push_back(text);
  out.resize(parts);
  return out;
}

void fuzz_password_file(std::string_view text) {
  auto parsed = PasswordFile::parse(text, "fuzz");
  if (!parsed) {
    (void)parsed.error().describe();
    return;
  }
  (void)parsed.value().contains("user");
}

void fuzz_acl_file(std::string_view input) {
  const std::vector<std::string_view> parts = split_on_nul(input, 4);
  auto parsed = AclFile::parse(parts[0], "fuzz");
  if (!parsed) {
    (void)parsed.error().describe();
    return;
  }
  const AclFile& acl = parsed.value();
  for (const std::optional<std::string_view> username : {std::optional<std::string_view>(parts[2]),
                                                         std::optional<std::string_view>()}) {
    const ClientIdentity identity{parts[1], username};
    (void)acl.can_publish(identity, parts[3]);
    (void)acl.can_read(identity, parts[3]);
    (void)acl.can_subscribe(identity, parts[3]);
  }
}

void fuzz_scram(std::string_view input) {
  const std::vector<std::string_view> parts = split_on_nul(input, 3);
  auto stored = parse_password_hash(parts[0]);
  std::optional<PasswordHash> user;
  if (stored && stored.value().iterations <= 4096) user = stored.value();
  static const uint8_t kSecret[32] = {1, 2, 3};
  ScramServer server([&](std::string_view) { return user; }, [] { return std::string("fuzz-nonce"); },
                     std::span<const uint8_t>(kSecret));
  (void)server.step(parts[1]);
  (void)server.step(parts[2]);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::string_view body(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 3) {
    case 0: fuzz_password_file(body); break;
    case 1: fuzz_acl_file(body); break;
    default: fuzz_scram(body); break;
  }
  return 0;
}

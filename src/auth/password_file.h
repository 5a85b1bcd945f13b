// A mosquitto password file: one "username:hash" per line, where the hash is
// one of the encodings of password_hash.h. Blank lines and lines starting
// with '#' are skipped; spaces around a line are ignored.
//
// Unlike mosquitto, which drops a malformed entry with a log line and starts
// anyway, loading fails with the file and line of the first problem: a user
// who silently cannot log in is harder to diagnose than a broker that says why
// it will not start. A user listed twice keeps the last entry, as in
// mosquitto, with a warning.
//
// A loaded PasswordFile is immutable and safe to share between threads.
#pragma once

#include <string>
#include <string_view>

#include "auth/error.h"
#include "auth/password_hash.h"
#include "auth/string_map.h"
#include "base/result.h"

namespace stellwerk::auth {

class PasswordFile {
 public:
  static Result<PasswordFile, Error> load(const std::string& path);
  // `path` only names the source in error messages.
  static Result<PasswordFile, Error> parse(std::string_view text, std::string_view path = {});

  // False for an unknown user or a wrong password. CPU-heavy: call it from a
  // CredentialChecker thread, not from an event loop.
  [[nodiscard]] bool verify(std::string_view username, std::string_view password) const;

  bool contains(std::string_view username) const { return users_.find(username) != users_.end(); }
  // The stored hash of `username`, or null for an unknown user. Valid as long
  // as this file is.
  const PasswordHash* find(std::string_view username) const {
    const auto user = users_.find(username);
    return user == users_.end() ? nullptr : &user->second;
  }
  size_t size() const { return users_.size(); }

 private:
  StringMap<PasswordHash> users_;
};

// Splits a "username:secret" entry at its first ':', trimming both parts.
// The error names what is missing. Shared with the password file editor.
struct PasswordEntry {
  std::string_view username;
  std::string_view secret;
};
Result<PasswordEntry, std::string> split_password_entry(std::string_view line);

// True for a line that carries no entry: blank, or a comment.
bool is_password_file_filler(std::string_view trimmed_line);

}  // namespace stellwerk::auth

// Edits a password file the way `stellwerk passwd` needs: add or change a
// user, delete one, or hash plain-text passwords, keeping every other line
// (comments, blank lines, order) as it was.
//
// mosquitto_passwd differs in two ways we do not copy: it calls a file with
// comments or blank lines corrupt (and with -b may then rewrite it with only
// the new user), and -U hashes entries that are already hashed, which makes
// them unusable. Here comments survive and hashed entries are left alone.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "auth/error.h"
#include "auth/password_hash.h"
#include "base/result.h"

namespace stellwerk::auth {

class PasswordFileEditor {
 public:
  PasswordFileEditor() = default;  // an empty file (-c)
  // Entries are not validated beyond "username:password": a file being
  // upgraded from plain text holds plain passwords.
  static Result<PasswordFileEditor, Error> parse(std::string_view text, std::string_view path = {});

  // Gives every entry of `username` this encoded hash (mosquitto_passwd
  // updates all duplicates too), or appends one entry when there is none.
  void set_user(std::string_view username, std::string_view encoded_hash);
  // Removes every entry of `username`; false when there was none.
  bool remove_user(std::string_view username);
  // Hashes each entry whose password is not yet a hash; returns how many.
  Result<size_t, std::string> hash_plain_passwords(const HashSettings& settings);

  // The file's new text, one '\n' after every line.
  std::string text() const;

 private:
  struct Line {
    std::string text;      // what is written out
    std::string username;  // empty for a comment or blank line
    std::string secret;    // the password or hash after the ':'
  };
  std::vector<Line> lines_;
};

}  // namespace stellwerk::auth

// Loading and checking a password file; see password_file.h.
#include "auth/password_file.h"

#include <optional>

#include "auth/text_lines.h"
#include "base/log.h"

namespace stellwerk::auth {

Result<PasswordEntry, std::string> split_password_entry(std::string_view line) {
  const size_t colon = line.find(':');
  if (colon == std::string_view::npos) return fail(std::string("expected username:password"));
  // Blanks around the ':' are dropped, as mosquitto_passwd -U does.
  const PasswordEntry entry{trim(line.substr(0, colon)), trim(line.substr(colon + 1))};
  if (entry.username.empty()) return fail(std::string("empty username"));
  if (entry.secret.empty()) return fail(std::string("empty password"));
  return entry;
}

bool is_password_file_filler(std::string_view trimmed_line) {
  return trimmed_line.empty() || trimmed_line.front() == '#';
}

Result<PasswordFile, Error> PasswordFile::load(const std::string& path) {
  Result<std::string, Error> text = read_text_file(path);
  if (!text) return fail(text.error());
  return parse(*text, path);
}

Result<PasswordFile, Error> PasswordFile::parse(std::string_view text, std::string_view path) {
  PasswordFile file;
  std::optional<Error> problem;
  for_each_line(text, [&](size_t number, std::string_view raw) {
    const std::string_view line = trim(raw);
    if (is_password_file_filler(line)) return true;
    Result<PasswordEntry, std::string> entry = split_password_entry(line);
    if (!entry) {
      problem = Error{std::string(path), number, entry.error()};
      return false;
    }
    Result<PasswordHash, std::string> hash = parse_password_hash(entry->secret);
    if (!hash) {
      problem = Error{std::string(path), number, fmt::format("user '{}': {}", entry->username, hash.error())};
      return false;
    }
    auto [slot, inserted] = file.users_.insert_or_assign(std::string(entry->username), std::move(*hash));
    if (!inserted) {
      const std::string message =
          fmt::format("user '{}' is listed again; the last entry counts", slot->first);
      log::warning("{}", Error{std::string(path), number, message}.describe());
    }
    return true;
  });
  if (problem) return fail(std::move(*problem));
  return file;
}

bool PasswordFile::verify(std::string_view username, std::string_view password) const {
  const auto user = users_.find(username);
  return user != users_.end() && verify_password(user->second, password);
}

}  // namespace stellwerk::auth

// Editing a password file line by line; see password_file_editor.h.
#include "auth/password_file_editor.h"

#include <algorithm>
#include <optional>

#include "auth/password_file.h"
#include "auth/text_lines.h"

namespace stellwerk::auth {

Result<PasswordFileEditor, Error> PasswordFileEditor::parse(std::string_view text, std::string_view path) {
  PasswordFileEditor editor;
  std::optional<Error> problem;
  for_each_line(text, [&](size_t number, std::string_view raw) {
    const std::string_view line = trim(raw);
    if (is_password_file_filler(line)) {
      editor.lines_.push_back(Line{std::string(raw), "", ""});
      return true;
    }
    Result<PasswordEntry, std::string> entry = split_password_entry(line);
    if (!entry) {
      problem = Error{std::string(path), number, entry.error()};
      return false;
    }
    editor.lines_.push_back(Line{std::string(raw), std::string(entry->username), std::string(entry->secret)});
    return true;
  });
  if (problem) return fail(std::move(*problem));
  return editor;
}

void PasswordFileEditor::set_user(std::string_view username, std::string_view encoded_hash) {
  const std::string text = fmt::format("{}:{}", username, encoded_hash);
  bool found = false;
  for (Line& line : lines_) {
    if (line.username != username) continue;
    line.text = text;
    line.secret = std::string(encoded_hash);
    found = true;
  }
  if (!found) lines_.push_back(Line{text, std::string(username), std::string(encoded_hash)});
}

bool PasswordFileEditor::remove_user(std::string_view username) {
  const size_t before = lines_.size();
  std::erase_if(lines_, [&](const Line& line) { return line.username == username; });
  return lines_.size() != before;
}

Result<size_t, std::string> PasswordFileEditor::hash_plain_passwords(const HashSettings& settings) {
  size_t hashed = 0;
  for (Line& line : lines_) {
    if (line.username.empty() || looks_hashed(line.secret)) continue;
    Result<PasswordHash, std::string> hash = hash_password(line.secret, settings);
    if (!hash) return fail(hash.error());
    line.secret = encode_password_hash(*hash);
    line.text = fmt::format("{}:{}", line.username, line.secret);
    ++hashed;
  }
  return hashed;
}

std::string PasswordFileEditor::text() const {
  std::string out;
  for (const Line& line : lines_) {
    out += line.text;
    out += '\n';
  }
  return out;
}

}  // namespace stellwerk::auth

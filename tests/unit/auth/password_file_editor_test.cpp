// The editor behind `stellwerk passwd`: other lines survive every edit.
#include "auth/password_file_editor.h"

#include <gtest/gtest.h>

#include "auth/password_file.h"

namespace stellwerk::auth {
namespace {

constexpr std::string_view kHash =
    "$6$XX4vY0RiLI6fxB8x$/L6jCCl+fHnTJeM4QrYHa1euvCgEDJEF4zqQvFj6sPh9Uqdf4/"
    "FfvgM9aznakDzaJfwW+wPGFZYlvK8eNv0CGw==";

PasswordFileEditor edit(std::string_view text) {
  Result<PasswordFileEditor, Error> editor = PasswordFileEditor::parse(text);
  EXPECT_TRUE(editor.ok()) << (editor.ok() ? "" : editor.error().describe());
  return editor.ok() ? std::move(*editor) : PasswordFileEditor{};
}

TEST(PasswordFileEditor, AddsAUserAtTheEnd) {
  PasswordFileEditor editor = edit("# users\n\nalice:x\n");
  editor.set_user("bob", "HASH");
  EXPECT_EQ(editor.text(), "# users\n\nalice:x\nbob:HASH\n");
}

TEST(PasswordFileEditor, ReplacesEveryEntryOfAUserInPlace) {
  PasswordFileEditor editor = edit("alice:1\n# keep\n  bob:2  \nalice:3");
  editor.set_user("alice", "NEW");
  EXPECT_EQ(editor.text(), "alice:NEW\n# keep\n  bob:2  \nalice:NEW\n");
}

TEST(PasswordFileEditor, RemovesEveryEntryOfAUser) {
  PasswordFileEditor editor = edit("alice:1\n# keep\nbob:2\nalice:3\n");
  EXPECT_TRUE(editor.remove_user("alice"));
  EXPECT_EQ(editor.text(), "# keep\nbob:2\n");
  EXPECT_FALSE(editor.remove_user("alice"));
  EXPECT_FALSE(editor.remove_user("carol"));
}

TEST(PasswordFileEditor, HashesOnlyPlainPasswords) {
  PasswordFileEditor editor =
      edit("# plain file\nalice:secret\ncarol:" + std::string(kHash) + "\nbob: spaced pw \n");
  Result<size_t, std::string> hashed = editor.hash_plain_passwords(HashSettings{});
  ASSERT_TRUE(hashed.ok());
  EXPECT_EQ(*hashed, 2u);
  const std::string text = editor.text();
  EXPECT_TRUE(text.starts_with("# plain file\nalice:$7$101$"));
  EXPECT_NE(text.find("carol:" + std::string(kHash) + "\n"), std::string::npos);  // left alone
  Result<PasswordFile, Error> file = PasswordFile::parse(text);
  ASSERT_TRUE(file.ok()) << file.error().describe();
  EXPECT_TRUE(file->verify("alice", "secret"));
  EXPECT_TRUE(file->verify("carol", "old"));
  // Blanks around the ':' and at the line's ends are dropped, as mosquitto_passwd -U does.
  EXPECT_TRUE(file->verify("bob", "spaced pw"));
}

TEST(PasswordFileEditor, RefusesALineWithoutPassword) {
  Result<PasswordFileEditor, Error> editor = PasswordFileEditor::parse("alice:x\nbob\n", "pw");
  ASSERT_FALSE(editor.ok());
  EXPECT_EQ(editor.error().describe(), "pw:2: expected username:password");
}

TEST(PasswordFileEditor, EmptyEditorWritesOneLine) {
  PasswordFileEditor editor;
  editor.set_user("alice", "H");
  EXPECT_EQ(editor.text(), "alice:H\n");
}

}  // namespace
}  // namespace stellwerk::auth

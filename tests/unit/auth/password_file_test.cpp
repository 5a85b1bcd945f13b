// Password files: mosquitto's layout, line-numbered errors, and files made by
// Debian's mosquitto_passwd verified by our code.
#include "auth/password_file.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

#include "temp_dir.h"

namespace stellwerk::auth {
namespace {

using testing::TempDir;

constexpr std::string_view kAliceSecret =
    "alice:$7$101$FVEGtatO4SEJvUZt$VT6IEMiEHZm4gO8JLyt+DeKASL8MIevlofvA3PDKLJE8lW6+YKHopojnvZrzuFu+"
    "GEnuZhe2mPSt0BNIfDxTXA==";
constexpr std::string_view kBobPassword =  // password "p:w d"
    "bob:$7$101$VpSnRyjsjzIw6SZQ$FWGdktk3Oq7juc7oMh49uB7xT/"
    "dcOuONP2Wt027JKuqlDrzoAOhG7OxX9hvypJ1+LXlH17CRQoif4p3tx1aQvA==";
constexpr std::string_view kCarolOld =
    "carol:$6$XX4vY0RiLI6fxB8x$/L6jCCl+fHnTJeM4QrYHa1euvCgEDJEF4zqQvFj6sPh9Uqdf4/"
    "FfvgM9aznakDzaJfwW+wPGFZYlvK8eNv0CGw==";

std::string lines(std::initializer_list<std::string_view> parts) {
  std::string text;
  for (const std::string_view part : parts) text.append(part).append("\n");
  return text;
}

TEST(PasswordFile, VerifiesUsersOfEveryScheme) {
  Result<PasswordFile, Error> file = PasswordFile::parse(lines({kAliceSecret, kBobPassword, kCarolOld}));
  ASSERT_TRUE(file.ok()) << file.error().describe();
  EXPECT_EQ(file->size(), 3u);
  EXPECT_TRUE(file->verify("alice", "secret"));
  EXPECT_TRUE(file->verify("bob", "p:w d"));
  EXPECT_TRUE(file->verify("carol", "old"));
  EXPECT_FALSE(file->verify("alice", "old"));
  EXPECT_FALSE(file->verify("carol", "secret"));
  EXPECT_FALSE(file->verify("dave", "secret"));
  EXPECT_FALSE(file->verify("Alice", "secret"));
}

TEST(PasswordFile, SkipsCommentsBlankLinesAndSurroundingSpace) {
  const std::string text = "# users\n\n   \n  # indented comment\n  " + std::string(kAliceSecret) + "  \r\n" +
                           std::string(kCarolOld);  // no newline at the end
  Result<PasswordFile, Error> file = PasswordFile::parse(text);
  ASSERT_TRUE(file.ok()) << file.error().describe();
  EXPECT_EQ(file->size(), 2u);
  EXPECT_TRUE(file->verify("alice", "secret"));
  EXPECT_TRUE(file->verify("carol", "old"));
}

TEST(PasswordFile, LastEntryOfAUserCounts) {
  const std::string carol_as_alice = "alice" + std::string(kCarolOld.substr(5));
  Result<PasswordFile, Error> file = PasswordFile::parse(lines({kAliceSecret, carol_as_alice}));
  ASSERT_TRUE(file.ok());
  EXPECT_FALSE(file->verify("alice", "secret"));
  EXPECT_TRUE(file->verify("alice", "old"));
}

TEST(PasswordFile, ErrorsNameFileLineAndProblem) {
  struct Case {
    std::string text;
    size_t line;
    std::string_view message_part;
  };
  const Case cases[] = {
      {lines({kAliceSecret, "bob"}), 2, "username:password"},
      {lines({"# c", ":$7$101$abc$def"}), 2, "empty username"},
      {lines({"alice:"}), 1, "empty password"},
      {lines({"", "", "dave:plaintext"}), 3, "unknown password hash type"},
      {lines({"erin:$7$x$MDEyMzQ1Njc4OWFi$AAAA"}), 1, "iterations"},
      {lines({"fred:$6$!!$AAAA"}), 1, "salt"},
  };
  for (const Case& c : cases) {
    Result<PasswordFile, Error> file = PasswordFile::parse(c.text, "/etc/pw");
    ASSERT_FALSE(file.ok()) << c.text;
    EXPECT_EQ(file.error().path, "/etc/pw");
    EXPECT_EQ(file.error().line, c.line) << c.text;
    EXPECT_NE(file.error().message.find(c.message_part), std::string::npos) << file.error().message;
    EXPECT_TRUE(file.error().describe().starts_with("/etc/pw:" + std::to_string(c.line) + ": "));
  }
}

TEST(PasswordFile, EmptyFileHasNoUsers) {
  Result<PasswordFile, Error> file = PasswordFile::parse("");
  ASSERT_TRUE(file.ok());
  EXPECT_EQ(file->size(), 0u);
  EXPECT_FALSE(file->verify("", ""));
}

TEST(PasswordFile, BinaryGarbageIsAnErrorNotACrash) {
  std::string garbage;
  for (int i = 0; i < 4096; ++i) garbage += static_cast<char>((i * 7919) % 256);
  Result<PasswordFile, Error> file = PasswordFile::parse(garbage);
  EXPECT_FALSE(file.ok());
}

TEST(PasswordFile, LoadReportsAMissingFile) {
  TempDir dir;
  Result<PasswordFile, Error> file = PasswordFile::load(dir.file("absent"));
  ASSERT_FALSE(file.ok());
  EXPECT_EQ(file.error().line, 0u);
  EXPECT_NE(file.error().describe().find("absent: cannot open"), std::string::npos);
}

TEST(PasswordFile, LoadsFromDisk) {
  TempDir dir;
  Result<PasswordFile, Error> file = PasswordFile::load(dir.write("pw", lines({kAliceSecret})));
  ASSERT_TRUE(file.ok());
  EXPECT_TRUE(file->verify("alice", "secret"));
}

// Runs Debian's mosquitto_passwd; false when it is not installed.
bool mosquitto_passwd(const std::string& arguments) {
  if (::access("/usr/bin/mosquitto_passwd", X_OK) != 0) return false;
  return std::system(("/usr/bin/mosquitto_passwd " + arguments + " >/dev/null 2>&1").c_str()) == 0;
}

TEST(PasswordFile, AcceptsFilesMadeByMosquittoPasswd) {
  TempDir dir;
  const std::string path = dir.file("pw");
  if (!mosquitto_passwd("-c -b " + path + " alice 'sec ret'")) GTEST_SKIP() << "no mosquitto_passwd";
  ASSERT_TRUE(mosquitto_passwd("-b " + path + " bob 'p:w'"));
  ASSERT_TRUE(mosquitto_passwd("-H sha512 -b " + path + " carol old"));
  ASSERT_TRUE(mosquitto_passwd("-b " + path + " dave ''"));
  Result<PasswordFile, Error> file = PasswordFile::load(path);
  ASSERT_TRUE(file.ok()) << file.error().describe();
  EXPECT_TRUE(file->verify("alice", "sec ret"));
  EXPECT_TRUE(file->verify("bob", "p:w"));
  EXPECT_TRUE(file->verify("carol", "old"));
  EXPECT_TRUE(file->verify("dave", ""));
  EXPECT_FALSE(file->verify("alice", "sec"));
  EXPECT_FALSE(file->verify("dave", "x"));
}

}  // namespace
}  // namespace stellwerk::auth

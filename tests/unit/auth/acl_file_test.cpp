// ACL files: parsing (mosquitto's grammar, line-numbered errors) and the
// access decisions, as tables. Where a decision differs from mosquitto
// 2.0.11 (measured against Debian's broker), the test says so.
#include "auth/acl_file.h"

#include <gtest/gtest.h>

#include <string>

#include "temp_dir.h"

namespace stellwerk::auth {
namespace {

constexpr std::string_view kAcl = R"(# Lines before any user line are for anonymous clients.
topic read anon/#
topic readwrite anon/rw

user alice
topic readwrite a/#
topic deny a/secret
topic read r/#
topic write w/#
topic b/+/c

user admin
topic readwrite #
topic read $SYS/#

# Patterns apply to every client.
pattern readwrite dev/%c/#
pattern read user/%u
pattern deny dev/%c/locked
)";

AclFile parsed(std::string_view text) {
  Result<AclFile, Error> acl = AclFile::parse(text, "acl");
  EXPECT_TRUE(acl.ok()) << (acl.ok() ? "" : acl.error().describe());
  return acl.ok() ? std::move(*acl) : AclFile{};
}

enum class Op { publish, read, subscribe };

struct Case {
  std::string_view client_id;
  std::optional<std::string_view> username;
  Op op;
  std::string_view topic;
  bool allowed;
};

void expect_decisions(const AclFile& acl, std::initializer_list<Case> cases) {
  for (const Case& c : cases) {
    const ClientIdentity who{c.client_id, c.username};
    const bool allowed = c.op == Op::publish ? acl.can_publish(who, c.topic)
                         : c.op == Op::read  ? acl.can_read(who, c.topic)
                                             : acl.can_subscribe(who, c.topic);
    EXPECT_EQ(allowed, c.allowed) << "client '" << c.client_id << "' user '" << c.username.value_or("<none>")
                                  << "' op " << static_cast<int>(c.op) << " on '" << c.topic << "'";
  }
}

constexpr std::optional<std::string_view> kAnonymous = std::nullopt;

TEST(AclFile, UserSectionGrantsAndDenies) {
  expect_decisions(parsed(kAcl),
                   {
                       {"al", "alice", Op::publish, "a/x", true},
                       {"al", "alice", Op::publish, "a/x/y", true},
                       {"al", "alice", Op::publish, "a/secret", false},  // deny wins
                       {"al", "alice", Op::read, "a/secret", false},
                       {"al", "alice", Op::read, "a/secret/below", true},
                       {"al", "alice", Op::publish, "r/x", false},  // read only
                       {"al", "alice", Op::read, "r/x", true},
                       {"al", "alice", Op::publish, "w/x", true},
                       {"al", "alice", Op::read, "w/x", false},      // write only
                       {"al", "alice", Op::publish, "b/q/c", true},  // no access word: readwrite
                       {"al", "alice", Op::read, "b/q/c", true},
                       {"al", "alice", Op::publish, "x", false},    // nothing grants it
                       {"al", "alice", Op::read, "anon/1", false},  // anonymous lines are not hers
                       {"al", "alice", Op::publish, "anon/rw", false},
                   });
}

TEST(AclFile, AnonymousClientsGetTheLinesBeforeAnyUser) {
  expect_decisions(parsed(kAcl), {
                                     {"an", kAnonymous, Op::read, "anon/1", true},
                                     {"an", kAnonymous, Op::publish, "anon/1", false},
                                     {"an", kAnonymous, Op::publish, "anon/rw", true},
                                     {"an", kAnonymous, Op::read, "a/x", false},
                                     {"an", kAnonymous, Op::publish, "dev/an/1", true},  // %c patterns apply
                                     {"an", kAnonymous, Op::read, "user/", false},       // %u patterns do not
                                 });
}

TEST(AclFile, UserWithoutSectionGetsPatternsOnly) {
  expect_decisions(parsed(kAcl),
                   {
                       {"b", "bob", Op::read, "user/bob", true},
                       {"b", "bob", Op::publish, "user/bob", false},
                       {"b", "bob", Op::read, "user/alice", false},
                       {"b", "bob", Op::publish, "dev/b/1", true},
                       {"b", "bob", Op::read, "dev/b", true},
                       {"b", "bob", Op::publish, "dev/c/1", false},
                       {"b", "bob", Op::publish, "dev/b/locked", false},  // deny pattern
                       {"b", "bob", Op::read, "anon/1", false},
                       {"b", "", Op::read, "user/", true},  // "" is a username (not anonymous): "user/"
                   });
}

TEST(AclFile, NobodyPublishesToSys) {
  expect_decisions(parsed(kAcl), {
                                     {"adm", "admin", Op::publish, "x/y", true},
                                     {"adm", "admin", Op::publish, "$SYS/x", false},
                                     {"adm", "admin", Op::publish, "$SYS", false},
                                     {"adm", "admin", Op::publish, "$SYS/broker/connection/x/state", false},
                                     {"adm", "admin", Op::read, "$SYS/broker/uptime", true},
                                     {"adm", "admin", Op::publish, "$SYSTEM", false},  // "#" hides '$' topics
                                 });
  EXPECT_TRUE(is_sys_topic("$SYS"));
  EXPECT_TRUE(is_sys_topic("$SYS/a"));
  EXPECT_FALSE(is_sys_topic("$SYSTEM/a"));
  EXPECT_FALSE(is_sys_topic("a/$SYS"));
}

// A wildcard first level does not reach '$' topics [MQTT-4.7.2-1]: "#" grants
// no $SYS; admin reads them only through "topic read $SYS/#".
TEST(AclFile, HashGrantDoesNotReachDollarTopics) {
  expect_decisions(parsed("user root\ntopic readwrite #\n"),
                   {
                       {"r", "root", Op::read, "$SYS/x", false},
                       {"r", "root", Op::subscribe, "$SYS/#", false},
                       {"r", "root", Op::read, "$other/x", false},
                       {"r", "root", Op::subscribe, "#", true},
                   });
}

TEST(AclFile, SubscribeNeedsAReadGrantCoveringTheWholeFilter) {
  expect_decisions(parsed(kAcl),
                   {
                       {"al", "alice", Op::subscribe, "a/#", true},
                       {"al", "alice", Op::subscribe, "a/+", true},
                       {"al", "alice", Op::subscribe, "a/x", true},
                       {"al", "alice", Op::subscribe, "r/#", true},
                       {"al", "alice", Op::subscribe, "b/+/c", true},
                       {"al", "alice", Op::subscribe, "b/x/c", true},
                       {"al", "alice", Op::subscribe, "b/#", false},  // wider than the grant
                       {"al", "alice", Op::subscribe, "#", false},
                       {"al", "alice", Op::subscribe, "+/x", false},
                       {"al", "alice", Op::subscribe, "w/#", false},       // write only
                       {"al", "alice", Op::subscribe, "a/secret", false},  // a deny covers it
                       {"al", "alice", Op::subscribe, "dev/al/#", true},
                       {"al", "alice", Op::subscribe, "dev/+/x", false},
                       {"al", "alice", Op::subscribe, "user/alice", true},
                       {"al", "alice", Op::subscribe, "$share/g/a/#", true},  // group not checked
                       {"al", "alice", Op::subscribe, "$share/g/w/x", false},
                       {"adm", "admin", Op::subscribe, "$SYS/#", true},
                       {"adm", "admin", Op::subscribe, "#", true},
                   });
}

// mosquitto 2.0.11 lets a user-section grant win over a matching deny
// pattern; here a deny always wins.
TEST(AclFile, DenyPatternBeatsUserGrant) {
  const AclFile acl = parsed("user alice\ntopic readwrite p/#\npattern deny p/%u\n");
  expect_decisions(acl, {
                            {"c", "alice", Op::publish, "p/alice", false},
                            {"c", "alice", Op::publish, "p/bob", true},
                        });
}

TEST(AclFile, UserDenyBeatsPatternGrant) {
  const AclFile acl = parsed("pattern readwrite a/#\nuser alice\ntopic deny a/secret\n");
  expect_decisions(acl, {
                            {"c", "alice", Op::publish, "a/secret", false},
                            {"c", "alice", Op::publish, "a/x", true},
                            {"c", "bob", Op::publish, "a/secret", true},
                        });
}

TEST(AclFile, EmptyFileDeniesEverything) {
  expect_decisions(parsed(""), {
                                   {"c", "alice", Op::publish, "a", false},
                                   {"c", kAnonymous, Op::read, "a", false},
                                   {"c", "alice", Op::subscribe, "#", false},
                               });
}

// A client picks its own id, and often its username: a value with '+', '#'
// or '/' must never turn a pattern into a wildcard or into another client's
// subtree.
TEST(AclFile, SubstitutionNeverWidensAPattern) {
  const AclFile acl =
      parsed("pattern readwrite dev/%c/#\npattern read user/%u\nuser alice\ntopic write a/#\n");
  expect_decisions(acl, {
                            // '/' in the id would reach dev/x/... which belongs to client "x"
                            {"x/y", "bob", Op::publish, "dev/x/y/1", false},
                            {"x/y", "bob", Op::read, "dev/x/y", false},
                            {"x/y", "bob", Op::subscribe, "dev/x/y/#", false},
                            {"x/y", "bob", Op::read, "user/bob", true},  // %u patterns still apply
                            {"x", "bob", Op::publish, "dev/x/y/1", true},
                            // '+' / '#' in the id or username void every pattern, as in mosquitto
                            {"+", "bob", Op::subscribe, "dev/+/#", false},
                            {"#", "bob", Op::subscribe, "dev/#", false},
                            {"c+", "bob", Op::read, "user/bob", false},
                            {"c", "#", Op::subscribe, "user/#", false},
                            {"c", "+", Op::subscribe, "user/+", false},
                            {"c", "a/b", Op::read, "user/a/b", false},
                            // ... but not the user's own section
                            {"al+", "alice", Op::publish, "a/x", true},
                        });
}

TEST(AclFile, UnsafeValueInDenyPatternFailsClosed) {
  const AclFile acl = parsed("user alice\ntopic readwrite #\npattern deny private/%c/#\n");
  expect_decisions(acl, {
                            {"c", "alice", Op::publish, "private/c/x", false},
                            {"c", "alice", Op::publish, "public/x", true},
                            {"c/d", "alice", Op::publish, "public/x", false},
                            {"c+", "alice", Op::read, "public/x", false},
                        });
}

TEST(AclFile, UsernamePatternsSkipAnonymousClients) {
  const AclFile acl = parsed("topic readwrite open/#\npattern deny open/%u\n");
  expect_decisions(acl, {
                            {"c", kAnonymous, Op::publish, "open/x", true},
                            {"c", kAnonymous, Op::publish, "open/", true},
                        });
}

TEST(AclFile, SubjectIsReusableAcrossChecks) {
  const AclFile acl = parsed(kAcl);
  const std::string client_id = "al";
  const std::string username = "alice";
  const AclFile::Subject alice = acl.subject(ClientIdentity{client_id, username});
  EXPECT_TRUE(acl.can_publish(alice, "a/x"));
  EXPECT_FALSE(acl.can_publish(alice, "a/secret"));
  EXPECT_TRUE(acl.can_read(alice, "dev/al/x"));
  EXPECT_TRUE(acl.can_subscribe(alice, "r/+"));
}

TEST(AclFile, GrammarLikeMosquitto) {
  const AclFile acl = parsed(
      "topic read a b\n"  // with an access word, the topic is the rest of the line
      "topic read\n"      // a single word is the topic, with readwrite
      "topic deny\n"      // the same: a topic named "deny"
      "  topic   write   c  \r\n"
      "  # indented comment (mosquitto refuses it; we read it as a comment)\n"
      "topic\twrite\ttabbed\n"
      "pattern readwrite x/%x\n"  // no %c / %u: a warning, as in mosquitto
      "user  spaced name \n"
      "topic s\n");
  expect_decisions(acl, {
                            {"c", kAnonymous, Op::read, "a b", true},
                            {"c", kAnonymous, Op::publish, "a b", false},
                            {"c", kAnonymous, Op::publish, "read", true},
                            {"c", kAnonymous, Op::publish, "deny", true},
                            {"c", kAnonymous, Op::publish, "c", true},
                            {"c", kAnonymous, Op::publish, "tabbed", true},
                            {"c", kAnonymous, Op::publish, "x/%x", true},
                            {"c", "spaced name", Op::publish, "s", true},
                        });
  EXPECT_EQ(acl.user_count(), 1u);
}

TEST(AclFile, ErrorsNameFileLineAndProblem) {
  struct Bad {
    std::string_view text;
    size_t line;
    std::string_view message_part;
  };
  const Bad cases[] = {
      {"topic", 1, "missing topic"},
      {"pattern  ", 1, "missing topic"},
      {"topic readx a", 1, "invalid access type 'readx'"},
      {"topic a b c", 1, "invalid access type 'a'"},
      {"topic READ a", 1, "invalid access type 'READ'"},
      {"# ok\n\ntopic read a/#/b", 3, "invalid topic 'a/#/b'"},
      {"topic read a+", 1, "invalid topic"},
      {"pattern read dev/%c#", 1, "invalid topic"},
      {"user alice\nuser", 2, "missing username"},
      {"topic a\nfoo bar", 2, "unknown keyword 'foo'"},
      {"TOPIC read a", 1, "unknown keyword 'TOPIC'"},
  };
  for (const Bad& c : cases) {
    Result<AclFile, Error> acl = AclFile::parse(c.text, "/etc/acl");
    ASSERT_FALSE(acl.ok()) << c.text;
    EXPECT_EQ(acl.error().line, c.line) << c.text;
    EXPECT_NE(acl.error().message.find(c.message_part), std::string::npos) << acl.error().message;
    EXPECT_TRUE(acl.error().describe().starts_with("/etc/acl:" + std::to_string(c.line) + ": "));
  }
}

TEST(AclFile, BinaryGarbageIsAnErrorNotACrash) {
  std::string garbage;
  for (int i = 0; i < 4096; ++i) garbage += static_cast<char>((i * 7919) % 256);
  EXPECT_FALSE(AclFile::parse(garbage).ok());
}

TEST(AclFile, LoadsFromDiskAndReportsAMissingFile) {
  testing::TempDir dir;
  Result<AclFile, Error> acl = AclFile::load(dir.write("acl", "user u\ntopic t\n"));
  ASSERT_TRUE(acl.ok());
  EXPECT_TRUE(acl->can_publish(ClientIdentity{"c", "u"}, "t"));
  Result<AclFile, Error> missing = AclFile::load(dir.file("absent"));
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().line, 0u);
}

}  // namespace
}  // namespace stellwerk::auth

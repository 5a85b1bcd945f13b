// Parsing an ACL file and answering access checks; see acl_file.h for the
// rules. Lines are compiled into TopicRules once, at load; a check then walks
// the client's section and the patterns, denials first.
#include "auth/acl_file.h"

#include <optional>
#include <utility>

#include "auth/text_lines.h"
#include "base/log.h"
#include "topics/levels.h"

namespace stellwerk::auth {
namespace {

using acl_detail::kRead;
using acl_detail::kWrite;
constexpr uint8_t kDeny = 0;

struct AccessAndTopic {
  uint8_t access;
  std::string_view topic;
};

// Splits "word rest" at the first blank; rest is trimmed.
std::pair<std::string_view, std::string_view> split_word(std::string_view text) {
  const size_t blank = text.find_first_of(" \t");
  if (blank == std::string_view::npos) return {text, {}};
  return {text.substr(0, blank), trim(text.substr(blank))};
}

std::optional<uint8_t> parse_access(std::string_view word) {
  if (word == "read") return kRead;
  if (word == "write") return kWrite;
  if (word == "readwrite") return kRead | kWrite;
  if (word == "deny") return kDeny;
  return std::nullopt;
}

// "[access] topic": a single word is the topic (as in mosquitto, where
// "topic read" names the topic "read"); with more, the first word is the access.
Result<AccessAndTopic, std::string> parse_access_and_topic(std::string_view text) {
  if (text.empty()) return fail(std::string("missing topic"));
  const auto [first, rest] = split_word(text);
  if (rest.empty()) return AccessAndTopic{kRead | kWrite, first};
  const std::optional<uint8_t> access = parse_access(first);
  if (!access) {
    return fail(fmt::format("invalid access type '{}' (expected read, write, readwrite or deny)", first));
  }
  return AccessAndTopic{*access, rest};
}

bool has_any_of(std::string_view text, std::string_view characters) {
  return text.find_first_of(characters) != std::string_view::npos;
}

}  // namespace

bool is_sys_topic(std::string_view topic) { return topic == "$SYS" || topic.starts_with("$SYS/"); }

Result<AclFile, Error> AclFile::load(const std::string& path) {
  Result<std::string, Error> text = read_text_file(path);
  if (!text) return fail(text.error());
  return parse(*text, path);
}

Result<AclFile, Error> AclFile::parse(std::string_view text, std::string_view path) {
  AclFile file;
  RuleList* section = nullptr;
  std::optional<Error> problem;
  for_each_line(text, [&](size_t number, std::string_view raw) {
    const std::string_view line = trim(raw);
    if (line.empty() || line.front() == '#') return true;
    Error where{std::string(path), number, ""};
    Status<std::string> added = file.add_line(line, section, where);
    if (added) return true;
    where.message = added.error();
    problem = std::move(where);
    return false;
  });
  if (problem) return fail(std::move(*problem));
  return file;
}

Status<std::string> AclFile::add_line(std::string_view line, RuleList*& section, const Error& where) {
  const auto [keyword, rest] = split_word(line);
  if (keyword == "user") {
    if (rest.empty()) return fail(std::string("missing username"));
    section = &users_[std::string(rest)];
    return {};
  }
  if (keyword != "topic" && keyword != "pattern") {
    return fail(fmt::format("unknown keyword '{}' (expected topic, pattern or user)", keyword));
  }
  Result<AccessAndTopic, std::string> parsed = parse_access_and_topic(rest);
  if (!parsed) return fail(parsed.error());
  if (!is_valid_acl_topic(parsed->topic)) return fail(fmt::format("invalid topic '{}'", parsed->topic));
  const bool is_pattern = keyword == "pattern";
  TopicRule rule = TopicRule::compile(parsed->topic, is_pattern);
  if (is_pattern && !rule.uses_client_id() && !rule.uses_username()) {
    const std::string message = fmt::format("pattern '{}' contains neither %c nor %u", parsed->topic);
    log::warning("{}", Error{where.path, where.line, message}.describe());
  }
  RuleList& list = is_pattern ? patterns_ : section != nullptr ? *section : anonymous_;
  if (parsed->access == kDeny) {
    list.denials.push_back(std::move(rule));
  } else {
    list.grants.push_back(acl_detail::Grant{parsed->access, std::move(rule)});
  }
  return {};
}

AclFile::Subject AclFile::subject(const ClientIdentity& identity) const {
  Subject subject;
  subject.values.client_id = identity.client_id;
  subject.values.username = identity.username.value_or(std::string_view{});
  subject.has_username = identity.username.has_value();
  if (subject.has_username) {
    const auto user = users_.find(*identity.username);
    subject.section = user == users_.end() ? nullptr : &user->second;
  } else {
    subject.section = &anonymous_;
  }
  subject.client_id_unsafe = has_any_of(subject.values.client_id, "+#/");
  subject.username_unsafe = has_any_of(subject.values.username, "+#/");
  subject.has_wildcard_chars =
      has_any_of(subject.values.client_id, "+#") || has_any_of(subject.values.username, "+#");
  return subject;
}

bool AclFile::can_publish(const Subject& subject, std::string_view topic) const {
  if (is_sys_topic(topic)) return false;
  return check(subject, kWrite, topic, Question::topic_name);
}

bool AclFile::can_read(const Subject& subject, std::string_view topic) const {
  return check(subject, kRead, topic, Question::topic_name);
}

bool AclFile::can_subscribe(const Subject& subject, std::string_view filter) const {
  if (const std::optional<topics::SharedFilter> shared = topics::split_shared_filter(filter)) {
    filter = shared->filter;
  }
  return check(subject, kRead, filter, Question::whole_filter);
}

bool AclFile::applies(const TopicRule& rule, const Subject& subject, std::string_view topic,
                      Question question) {
  return question == Question::topic_name ? rule.matches_topic(topic, subject.values)
                                          : rule.covers_filter(topic, subject.values);
}

bool AclFile::check(const Subject& subject, uint8_t access, std::string_view topic, Question question) const {
  const RuleList* section = subject.section;
  if (section != nullptr) {
    for (const TopicRule& denial : section->denials) {
      if (applies(denial, subject, topic, question)) return false;
    }
  }
  if (pattern_denies(subject, topic, question)) return false;
  if (section != nullptr) {
    for (const acl_detail::Grant& grant : section->grants) {
      if ((grant.access & access) != 0 && applies(grant.rule, subject, topic, question)) return true;
    }
  }
  return pattern_grants(subject, access, topic, question);
}

bool AclFile::pattern_denies(const Subject& subject, std::string_view topic, Question question) const {
  for (const TopicRule& denial : patterns_.denials) {
    // A %u pattern is about users; a client without a username is not one.
    if (denial.uses_username() && !subject.has_username) continue;
    // An unsafe value cannot be substituted; failing closed is the only
    // answer that cannot let the client past a denial meant for it.
    if ((denial.uses_client_id() && subject.client_id_unsafe) ||
        (denial.uses_username() && subject.username_unsafe)) {
      return true;
    }
    if (applies(denial, subject, topic, question)) return true;
  }
  return false;
}

bool AclFile::pattern_grants(const Subject& subject, uint8_t access, std::string_view topic,
                             Question question) const {
  // mosquitto's rule: '+' or '#' in the id or username voids every pattern.
  if (subject.has_wildcard_chars) return false;
  for (const acl_detail::Grant& grant : patterns_.grants) {
    if ((grant.access & access) == 0) continue;
    if (grant.rule.uses_username() && !subject.has_username) continue;
    if ((grant.rule.uses_client_id() && subject.client_id_unsafe) ||
        (grant.rule.uses_username() && subject.username_unsafe)) {
      continue;
    }
    if (applies(grant.rule, subject, topic, question)) return true;
  }
  return false;
}

}  // namespace stellwerk::auth

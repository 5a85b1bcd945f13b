// A mosquitto ACL file and the access checks made against it.
//
// Format (mosquitto.conf(5), acl_file):
//   topic [read|write|readwrite|deny] <topic>    before any `user` line: anonymous
//                                                 clients; after one: that user
//   user <username>                               starts that user's section
//   pattern [read|write|readwrite|deny] <topic>   every client; %c = client id,
//                                                 %u = username
//   # comment, blank lines
// Without an access word the access is readwrite; with one, the topic is the
// rest of the line and may contain spaces.
//
// A check, for a client and one access (read or write):
//   1. denied when any `deny` line of the client's section or any `deny`
//      pattern matches; `deny` always wins over a grant;
//   2. allowed when a line of the client's section or a pattern grants it;
//   3. denied otherwise: with an ACL file nothing is allowed by default.
// The client's section is the `user` section of its username (none if the file
// has no such section), or the anonymous lines when it sent no username.
//
// Substitution never widens a pattern. A %c or %u value containing '+', '#'
// or '/' would turn "dev/%c/#" into a wildcard or someone else's subtree, so
// such a pattern grants nothing and, if it is a `deny`, denies everything;
// a pattern with %u does not apply to a client without a username; and, as in
// mosquitto, a client whose id or username contains '+' or '#' gets no grant
// from any pattern.
//
// Where this differs from mosquitto 2.0.11 (measured): mosquitto lets a grant
// in the user's section win over a matching `deny` pattern, substitutes a
// value containing '/', accepts every SUBSCRIBE (it filters deliveries only),
// and lets bridges publish to $SYS/broker/connection/+/state. Here deny always
// wins, '/' is refused, can_subscribe() checks the filter, and no client can
// publish to $SYS.
//
// Publish checks write access on the topic name, delivery checks read access
// on the topic name, and subscribe checks that one read grant covers the
// whole filter (topic_rule.h); a `deny` refuses a subscription only when it
// covers the whole filter, since deliveries are still checked one by one.
//
// A loaded AclFile is immutable and safe to share between threads.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "auth/error.h"
#include "auth/string_map.h"
#include "auth/topic_rule.h"
#include "base/result.h"

namespace stellwerk::auth {

struct ClientIdentity {
  std::string_view client_id;
  std::optional<std::string_view> username;  // nullopt: the client sent none
};

// True for "$SYS" and "$SYS/...": the broker's own topics, which no client
// may publish to, with or without an ACL file.
bool is_sys_topic(std::string_view topic);

namespace acl_detail {
inline constexpr uint8_t kRead = 1;
inline constexpr uint8_t kWrite = 2;
struct Grant {
  uint8_t access;  // kRead | kWrite
  TopicRule rule;
};
// The lines of one section (anonymous, one user, or the patterns).
struct RuleList {
  std::vector<TopicRule> denials;
  std::vector<Grant> grants;
};
}  // namespace acl_detail

class AclFile {
 public:
  // What a check needs of one client, worked out once (at CONNECT) so that a
  // per-delivery check does no lookup. It points into this AclFile and into
  // the identity's strings: both must outlive it, and the AclFile must not
  // move (the broker holds it by shared_ptr).
  class Subject {
   private:
    friend class AclFile;
    const acl_detail::RuleList* section = nullptr;  // none: only patterns apply
    SubstitutionValues values;
    bool has_username = false;
    bool client_id_unsafe = false;    // contains '+', '#' or '/'
    bool username_unsafe = false;     // contains '+', '#' or '/'
    bool has_wildcard_chars = false;  // id or username contains '+' or '#'
  };

  static Result<AclFile, Error> load(const std::string& path);
  // `path` only names the source in error messages.
  static Result<AclFile, Error> parse(std::string_view text, std::string_view path = {});

  Subject subject(const ClientIdentity& identity) const;

  bool can_publish(const Subject& subject, std::string_view topic) const;
  bool can_read(const Subject& subject, std::string_view topic) const;
  // `filter` may be "$share/{group}/{filter}"; the group is not checked.
  bool can_subscribe(const Subject& subject, std::string_view filter) const;

  bool can_publish(const ClientIdentity& identity, std::string_view topic) const {
    return can_publish(subject(identity), topic);
  }
  bool can_read(const ClientIdentity& identity, std::string_view topic) const {
    return can_read(subject(identity), topic);
  }
  bool can_subscribe(const ClientIdentity& identity, std::string_view filter) const {
    return can_subscribe(subject(identity), filter);
  }

  size_t user_count() const { return users_.size(); }

 private:
  using RuleList = acl_detail::RuleList;
  enum class Question : uint8_t { topic_name, whole_filter };

  Status<std::string> add_line(std::string_view line, RuleList*& section, const Error& where);
  static bool applies(const TopicRule& rule, const Subject& subject, std::string_view topic,
                      Question question);
  bool check(const Subject& subject, uint8_t access, std::string_view topic, Question question) const;
  bool pattern_denies(const Subject& subject, std::string_view topic, Question question) const;
  bool pattern_grants(const Subject& subject, uint8_t access, std::string_view topic,
                      Question question) const;

  RuleList anonymous_;
  RuleList patterns_;
  StringMap<RuleList> users_;
};

}  // namespace stellwerk::auth

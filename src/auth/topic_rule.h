// One topic of an ACL line, compiled once at load time so that a check walks
// the topic level by level without allocating.
//
// A rule is a topic filter ('+' and '#' as in subscriptions). In a `pattern`
// line, "%c" and "%u" inside a level stand for the client id and username;
// the values are supplied at check time, so one compiled rule serves every
// client. The caller decides beforehand whether the values are safe to
// substitute (AclFile refuses values containing '+', '#' or '/').
//
// Two questions can be asked of a rule:
//   matches_topic(name):    does the rule match this topic name (PUBLISH, delivery)?
//   covers_filter(filter):  does the rule match every topic the filter can match
//                           (SUBSCRIBE)? "a/#" covers "a/+/b"; "a/+" does not cover "a/#".
// Both follow MQTT's rule that a wildcard in the first level does not match
// a topic starting with '$' [MQTT-4.7.2-1].
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace stellwerk::auth {

struct SubstitutionValues {
  std::string_view client_id;
  std::string_view username;
};

class TopicRule {
 public:
  // `topic` must be a valid filter (see is_valid_acl_topic). With
  // `substitute`, "%c" and "%u" are placeholders; otherwise literal text.
  static TopicRule compile(std::string_view topic, bool substitute);

  bool uses_client_id() const { return uses_client_id_; }
  bool uses_username() const { return uses_username_; }
  const std::string& text() const { return text_; }

  bool matches_topic(std::string_view topic, const SubstitutionValues& values) const;
  bool covers_filter(std::string_view filter, const SubstitutionValues& values) const;

 private:
  enum class Kind : uint8_t { literal, single_wildcard, multi_wildcard, substituted };
  enum class Part : uint8_t { text, client_id, username };
  struct Piece {
    Part part;
    std::string text;  // Part::text only
  };
  struct Level {
    Kind kind;
    std::string literal;        // Kind::literal
    std::vector<Piece> pieces;  // Kind::substituted, in order
  };

  static Level compile_level(std::string_view level, bool substitute);
  static bool level_matches(const Level& level, std::string_view text, const SubstitutionValues& values);

  std::vector<Level> levels_;
  std::string text_;
  bool uses_client_id_ = false;
  bool uses_username_ = false;
};

// A filter as MQTT defines one: not empty, no NUL, '+' and '#' only as whole
// levels, '#' only last [MQTT-4.7.1-1] [MQTT-4.7.1-2].
bool is_valid_acl_topic(std::string_view topic);

}  // namespace stellwerk::auth

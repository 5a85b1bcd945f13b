// Compiling and matching ACL topics; see topic_rule.h.
#include "auth/topic_rule.h"

#include "topics/levels.h"

namespace stellwerk::auth {
namespace {

constexpr std::string_view kClientIdMarker = "%c";
constexpr std::string_view kUsernameMarker = "%u";

bool starts_with_dollar(std::string_view text) { return !text.empty() && text.front() == '$'; }

}  // namespace

TopicRule TopicRule::compile(std::string_view topic, bool substitute) {
  TopicRule rule;
  rule.text_ = std::string(topic);
  topics::LevelCursor cursor(topic);
  while (cursor.has_next()) {
    Level level = compile_level(cursor.next(), substitute);
    for (const Piece& piece : level.pieces) {
      rule.uses_client_id_ |= piece.part == Part::client_id;
      rule.uses_username_ |= piece.part == Part::username;
    }
    rule.levels_.push_back(std::move(level));
  }
  return rule;
}

TopicRule::Level TopicRule::compile_level(std::string_view level, bool substitute) {
  if (topics::is_single_level_wildcard(level)) return Level{Kind::single_wildcard, {}, {}};
  if (topics::is_multi_level_wildcard(level)) return Level{Kind::multi_wildcard, {}, {}};
  const bool has_marker = level.find(kClientIdMarker) != std::string_view::npos ||
                          level.find(kUsernameMarker) != std::string_view::npos;
  if (!substitute || !has_marker) return Level{Kind::literal, std::string(level), {}};
  Level compiled{Kind::substituted, {}, {}};
  std::string text;
  for (size_t i = 0; i < level.size(); ++i) {
    const std::string_view rest = level.substr(i);
    const bool client_id = rest.starts_with(kClientIdMarker);
    if (!client_id && !rest.starts_with(kUsernameMarker)) {
      text += level[i];
      continue;
    }
    if (!text.empty()) compiled.pieces.push_back(Piece{Part::text, std::move(text)});
    text.clear();
    compiled.pieces.push_back(Piece{client_id ? Part::client_id : Part::username, {}});
    ++i;  // the marker's second character
  }
  if (!text.empty()) compiled.pieces.push_back(Piece{Part::text, std::move(text)});
  return compiled;
}

bool TopicRule::level_matches(const Level& level, std::string_view text, const SubstitutionValues& values) {
  if (level.kind == Kind::literal) return text == level.literal;
  for (const Piece& piece : level.pieces) {
    const std::string_view expected = piece.part == Part::text        ? std::string_view(piece.text)
                                      : piece.part == Part::client_id ? values.client_id
                                                                      : values.username;
    if (!text.starts_with(expected)) return false;
    text.remove_prefix(expected.size());
  }
  return text.empty();
}

bool TopicRule::matches_topic(std::string_view topic, const SubstitutionValues& values) const {
  topics::LevelCursor cursor(topic);
  for (size_t i = 0; i < levels_.size(); ++i) {
    const Level& level = levels_[i];
    const bool hides_dollar = i == 0 && starts_with_dollar(topic);
    if (level.kind == Kind::multi_wildcard) return !hides_dollar;
    if (!cursor.has_next()) return false;
    const std::string_view text = cursor.next();
    if (level.kind == Kind::single_wildcard) {
      if (hides_dollar) return false;
      continue;
    }
    if (!level_matches(level, text, values)) return false;
  }
  return !cursor.has_next();
}

bool TopicRule::covers_filter(std::string_view filter, const SubstitutionValues& values) const {
  topics::LevelCursor cursor(filter);
  for (size_t i = 0; i < levels_.size(); ++i) {
    const Level& level = levels_[i];
    // A filter whose first level is a wildcard reaches no '$' topic itself,
    // so only a literal '$' level is hidden from the rule's wildcard.
    const bool hides_dollar = i == 0 && starts_with_dollar(filter);
    if (level.kind == Kind::multi_wildcard) return !hides_dollar;
    if (!cursor.has_next()) return false;
    const std::string_view text = cursor.next();
    if (topics::is_multi_level_wildcard(text)) return false;
    if (level.kind == Kind::single_wildcard) {
      if (hides_dollar) return false;
      continue;
    }
    // A literal or substituted level covers only that same literal level.
    if (topics::is_single_level_wildcard(text) || !level_matches(level, text, values)) return false;
  }
  return !cursor.has_next();
}

bool is_valid_acl_topic(std::string_view topic) {
  if (topic.empty() || topic.find('\0') != std::string_view::npos) return false;
  topics::LevelCursor cursor(topic);
  while (cursor.has_next()) {
    const std::string_view level = cursor.next();
    const bool wildcard = topics::is_single_level_wildcard(level) || topics::is_multi_level_wildcard(level);
    if (!wildcard && level.find_first_of("+#") != std::string_view::npos) return false;
    if (topics::is_multi_level_wildcard(level) && cursor.has_next()) return false;
  }
  return true;
}

}  // namespace stellwerk::auth

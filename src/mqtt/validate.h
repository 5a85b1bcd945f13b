// Rules on strings and topics shared by every version.
#pragma once

#include <optional>
#include <string_view>

namespace stellwerk::mqtt {

// A UTF-8 Encoded String per v5 1.5.4 / 3.1.1 1.5.3: well-formed UTF-8, no
// U+0000, no surrogates (U+D800..U+DFFF), at most 65,535 bytes.
bool is_valid_utf8(std::string_view text);

// Topic Name (for PUBLISH): non-empty, valid UTF-8, no '+' or '#'.
bool is_valid_topic_name(std::string_view topic);

// Topic Filter (for SUBSCRIBE/UNSUBSCRIBE): non-empty, valid UTF-8, '+' only as
// a whole level, '#' only as the whole last level. Shared filters
// ($share/group/filter) are valid when group and filter are.
bool is_valid_topic_filter(std::string_view filter);

struct SharedFilter {
  std::string_view group;
  std::string_view filter;
};
// Splits "$share/{group}/{filter}". nullopt when `filter` is not shared;
// a shared filter with an empty group, a group containing '+' or '#' or no
// filter part returns a SharedFilter with an empty group (caller rejects it).
std::optional<SharedFilter> parse_shared_filter(std::string_view filter);

bool has_wildcard(std::string_view filter);

// Topics level by level, each level by its bytes: "a" < "a/b" < "a-b". The
// order a walk of a topic tree gives, and the one stored snapshots list
// retained topics in, so that either fills the other without a sort. The
// same as comparing bytes with '/' before every other byte.
bool topic_level_less(std::string_view a, std::string_view b);

}  // namespace stellwerk::mqtt

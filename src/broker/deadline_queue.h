// When a connection or a session next needs the broker's attention (CONNECT or
// keep-alive timeout, delayed will, session expiry), so that a tick looks only
// at what is due instead of at every client and session.
//
// Filing is lazy. A connection's keep-alive deadline moves later with every
// packet it sends, and that costs nothing here: when its entry comes up, the
// broker reads the real deadline again and files the key anew if it moved.
// A key is filed again early only when its deadline moves earlier than the
// time it is filed for, and each key keeps its own record of that time, so a
// key has one live entry; an entry whose time is not its key's record any
// more is stale and skipped. Entries of keys that are gone (a connection
// closed long before its deadline) are dropped when they come up, or by
// compact() when they pile up.
#pragma once

#include <algorithm>
#include <vector>

#include "base/clock.h"

namespace stellwerk::broker {

// A key's record of the time it is filed for; kNotFiled when it is not.
inline constexpr TimePoint kNotFiled = TimePoint::max();

template <typename Key>
class DeadlineQueue {
 public:
  struct Entry {
    TimePoint due;
    Key key;
  };

  // Files `key` for `due` unless it is filed for that time or earlier already
  // (a later deadline is found when the earlier entry comes up). `filed` is
  // the key's own record.
  void file(Key key, TimePoint due, TimePoint& filed) {
    if (filed <= due) return;
    filed = due;
    entries_.push_back(Entry{due, key});
    std::push_heap(entries_.begin(), entries_.end(), later);
  }

  // Removes the entries due at `now` into `due`, earliest first. The caller
  // skips an entry whose key is gone or whose record says another time, and
  // for the rest sets the record to kNotFiled before it acts or files again.
  void take_due(TimePoint now, std::vector<Entry>& due) {
    due.clear();
    while (!entries_.empty() && entries_.front().due <= now) {
      std::pop_heap(entries_.begin(), entries_.end(), later);
      due.push_back(entries_.back());
      entries_.pop_back();
    }
  }

  // Drops every entry for which `live(entry)` is false, once there are more
  // than twice as many entries as `live_keys` (plus some slack): linear, but
  // only after as many stale entries as live ones came in.
  template <typename Live>
  void compact(size_t live_keys, Live&& live) {
    if (entries_.size() <= 2 * live_keys + kSlack) return;
    std::erase_if(entries_, [&](const Entry& entry) { return !live(entry); });
    std::make_heap(entries_.begin(), entries_.end(), later);
  }

  size_t size() const { return entries_.size(); }

 private:
  static constexpr size_t kSlack = 1024;
  static bool later(const Entry& a, const Entry& b) { return a.due > b.due; }

  std::vector<Entry> entries_;  // a min-heap by due time
};

}  // namespace stellwerk::broker

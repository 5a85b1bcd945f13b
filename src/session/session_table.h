// The broker's sessions, owned and found by client id.
//
// A broker holds one session per connected client, so the table's cost per
// entry counts: a std::unordered_map<std::string, ...> spends a node of 56
// bytes plus the key's own copy of the client id (another 32 bytes once it is
// longer than 15 characters). Here a bucket is 16 bytes holding only the
// pointer and part of its hash, and the key is the session's own client id.
// Entries move when the table grows, the sessions they own do not: a
// Session& stays valid until erase().
#pragma once

#include <tsl/robin_set.h>

#include <cstddef>
#include <functional>
#include <memory>
#include <string_view>

#include "session/session.h"

namespace stellwerk::session {

class SessionTable {
  using Entry = std::unique_ptr<Session>;

  // Hash and equality on the client id, for entries and for plain ids alike.
  static std::string_view key(std::string_view id) { return id; }
  static std::string_view key(const Entry& session) { return session->client_id(); }
  struct Hash {
    using is_transparent = void;
    template <typename K>
    size_t operator()(const K& k) const {
      return std::hash<std::string_view>{}(key(k));
    }
  };
  struct Equal {
    using is_transparent = void;
    template <typename A, typename B>
    bool operator()(const A& a, const B& b) const {
      return key(a) == key(b);
    }
  };
  // The hash is stored with the entry: a probe that meets another session
  // compares 32 bits instead of reading that session's client id.
  using Set = tsl::robin_set<Entry, Hash, Equal, std::allocator<Entry>, true>;

 public:
  // A fuller table than the library's default (0.5) halves its memory; with
  // stored hashes the longer probes stay cheap.
  SessionTable() { sessions_.max_load_factor(0.8f); }

  // Takes `session`, whose client id must not be in the table yet. The
  // client id is taken from the session; the first parameter exists so that
  // the table is filled like a map (broker/persistence.cpp).
  void emplace(std::string_view client_id, Entry session) {
    (void)client_id;
    sessions_.insert(std::move(session));
  }
  Session* find(std::string_view client_id) const {
    auto it = sessions_.find(client_id);
    return it == sessions_.end() ? nullptr : it->get();
  }
  // Ends `session`: it is destroyed.
  void erase(const Session& session) {
    auto it = sessions_.find(std::string_view(session.client_id()));
    if (it != sessions_.end()) sessions_.erase(it);
  }
  size_t size() const { return sessions_.size(); }

  // Calls `visit(Session&)` for every session. `visit` must not add or
  // erase sessions.
  template <typename Visit>
  void for_each(Visit&& visit) const {
    for (const Entry& session : sessions_) visit(*session);
  }

 private:
  Set sessions_;
};

}  // namespace stellwerk::session

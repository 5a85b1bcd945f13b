// Verifies username/password pairs on its own small thread pool, so that an
// event loop never spends the milliseconds a $7$ or argon2id check costs.
//
// The broker's worker calls check() from its loop and gets the answer through
// a callback on a checker thread, which posts it back to the loop. Successful
// checks are remembered in a bounded LRU cache keyed by a keyed SHA-256 of
// (username, password), so the cache never holds a password or a hash that
// could be attacked offline without the process's random key. The loop may
// consult the cache itself with recently_verified() (one SHA-256) and skip the
// thread hop for a client that reconnects. Only successes are cached: a flood
// of wrong guesses cannot evict good entries, and a password taken out of the
// file stops working at the next reload, which empties the cache.
//
// The request queue is bounded: when it is full, check() refuses at once and
// the broker can answer "server busy" instead of queueing without end.
//
// Threads: every public function may be called from any thread. One mutex
// guards the queue, the file pointer, the cache and the counters; hashing
// runs outside it. Callbacks run on a checker thread, never under the mutex.
#pragma once

#include <array>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <vector>

#include "auth/password_file.h"
#include "base/result.h"

namespace stellwerk::auth {

enum class CheckerError {
  queue_full,    // too many checks waiting: try later / answer "server busy"
  shutting_down  // the checker is being destroyed
};

class CredentialChecker {
 public:
  struct Options {
    size_t threads = 1;         // 1 or 2 are enough; checks are rare next to messages
    size_t queue_limit = 1024;  // waiting checks
    size_t cache_limit = 4096;  // remembered successful checks
  };
  struct Stats {
    uint64_t checks = 0;      // requests accepted by check()
    uint64_t accepted = 0;    // answered true
    uint64_t rejected = 0;    // answered false
    uint64_t cache_hits = 0;  // answered from the cache (either entry point)
    uint64_t refused_queue_full = 0;
    size_t queued = 0;  // waiting now
    size_t cached = 0;  // cache entries now
  };
  // Called once per accepted check: on a checker thread, or on the thread
  // that destroys the checker for checks still queued then.
  using Callback = std::function<void(bool accepted)>;

  // Starts the threads. A null `file` rejects every check.
  CredentialChecker(std::shared_ptr<const PasswordFile> file, Options options);
  CredentialChecker(std::shared_ptr<const PasswordFile> file)
      : CredentialChecker(std::move(file), Options{}) {}
  // Joins the threads. Checks still queued are answered false (a client is
  // never left waiting); the one being verified completes normally.
  ~CredentialChecker();
  CredentialChecker(const CredentialChecker&) = delete;
  CredentialChecker& operator=(const CredentialChecker&) = delete;

  // Queues a check. On failure `done` is not called and is destroyed here.
  [[nodiscard]] Status<CheckerError> check(std::string username, std::string password, Callback done);

  // True when this pair was verified since the last reload and is still in
  // the cache. Cheap enough for an event loop; false means "ask check()".
  bool recently_verified(std::string_view username, std::string_view password);

  // Uses a newly loaded file from now on and forgets every cached result.
  // A check already running against the old file still answers from it, but
  // its result is not cached.
  void reload(std::shared_ptr<const PasswordFile> file);

  Stats stats() const;

 private:
  using CacheKey = std::array<uint8_t, 32>;
  struct CacheKeyHash {
    size_t operator()(const CacheKey& key) const;
  };
  struct Request {
    std::string username;
    std::string password;
    Callback done;
  };

  CacheKey cache_key(std::string_view username, std::string_view password) const;
  void run_worker();
  bool answer(Request& request);
  bool cache_lookup(const CacheKey& key);  // needs mutex_
  void cache_insert(const CacheKey& key);  // needs mutex_

  const Options options_;
  std::array<uint8_t, 32> key_{};  // random, for cache_key(); set once in the constructor

  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<Request> queue_;                 // guarded by mutex_
  std::shared_ptr<const PasswordFile> file_;  // guarded by mutex_
  uint64_t generation_ = 0;                   // guarded by mutex_; bumped by reload()
  std::list<CacheKey> lru_;                   // guarded by mutex_; most recent first
  std::unordered_map<CacheKey, std::list<CacheKey>::iterator, CacheKeyHash> cache_;  // guarded by mutex_
  Stats stats_;                                                                      // guarded by mutex_
  bool stopping_ = false;                                                            // guarded by mutex_

  std::vector<std::thread> threads_;
};

}  // namespace stellwerk::auth

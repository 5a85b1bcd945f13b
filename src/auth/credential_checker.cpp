// The checker's threads and cache; see credential_checker.h.
#include "auth/credential_checker.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <algorithm>
#include <cstring>

#include "base/log.h"
#include "base/thread_name.h"

namespace stellwerk::auth {
namespace {

constexpr size_t kMaxThreads = 8;

// Overwrites a password before its memory is released.
void wipe(std::string& secret) {
  OPENSSL_cleanse(secret.data(), secret.size());
  secret.clear();
}

}  // namespace

size_t CredentialChecker::CacheKeyHash::operator()(const CacheKey& key) const {
  // The key is already a uniformly distributed digest: any 8 bytes of it will do.
  size_t hash = 0;
  std::memcpy(&hash, key.data(), sizeof(hash));
  return hash;
}

CredentialChecker::CredentialChecker(std::shared_ptr<const PasswordFile> file, Options options)
    : options_(options), file_(std::move(file)) {
  if (RAND_bytes(key_.data(), static_cast<int>(key_.size())) != 1) {
    // Without randomness the cache key is still a SHA-256 of the pair: only
    // the protection against offline guessing from a memory dump is weaker.
    log::warning("credential checker: no random cache key, OpenSSL's generator failed");
  }
  const size_t threads = std::clamp<size_t>(options_.threads, 1, kMaxThreads);
  for (size_t i = 0; i < threads; ++i) threads_.emplace_back([this] { run_worker(); });
}

CredentialChecker::~CredentialChecker() {
  std::deque<Request> abandoned;
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    abandoned.swap(queue_);
  }
  wake_.notify_all();
  for (std::thread& thread : threads_) thread.join();
  for (Request& request : abandoned) {
    wipe(request.password);
    request.done(false);
  }
}

Status<CheckerError> CredentialChecker::check(std::string username, std::string password, Callback done) {
  {
    std::lock_guard lock(mutex_);
    if (stopping_) return fail(CheckerError::shutting_down);
    if (queue_.size() >= options_.queue_limit) {
      ++stats_.refused_queue_full;
      wipe(password);
      return fail(CheckerError::queue_full);
    }
    ++stats_.checks;
    queue_.push_back(Request{std::move(username), std::move(password), std::move(done)});
  }
  wake_.notify_one();
  return {};
}

bool CredentialChecker::recently_verified(std::string_view username, std::string_view password) {
  const CacheKey key = cache_key(username, password);
  std::lock_guard lock(mutex_);
  return cache_lookup(key);
}

void CredentialChecker::reload(std::shared_ptr<const PasswordFile> file) {
  std::lock_guard lock(mutex_);
  file_ = std::move(file);
  ++generation_;
  cache_.clear();
  lru_.clear();
}

CredentialChecker::Stats CredentialChecker::stats() const {
  std::lock_guard lock(mutex_);
  Stats stats = stats_;
  stats.queued = queue_.size();
  stats.cached = cache_.size();
  return stats;
}

CredentialChecker::CacheKey CredentialChecker::cache_key(std::string_view username,
                                                         std::string_view password) const {
  // The username's length goes first so that ("ab", "c") and ("a", "bc") differ.
  const uint64_t username_size = username.size();
  CacheKey key{};
  unsigned int length = 0;
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> context(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
  const bool ok = context && EVP_DigestInit_ex(context.get(), EVP_sha256(), nullptr) == 1 &&
                  EVP_DigestUpdate(context.get(), key_.data(), key_.size()) == 1 &&
                  EVP_DigestUpdate(context.get(), &username_size, sizeof(username_size)) == 1 &&
                  EVP_DigestUpdate(context.get(), username.data(), username.size()) == 1 &&
                  EVP_DigestUpdate(context.get(), password.data(), password.size()) == 1 &&
                  EVP_DigestFinal_ex(context.get(), key.data(), &length) == 1;
  // A failed digest gives the all-zero key, which is never inserted (see cache_insert).
  if (!ok) key.fill(0);
  return key;
}

void CredentialChecker::run_worker() {
  name_this_thread("sw-password");
  for (;;) {
    Request request;
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (stopping_) return;
      request = std::move(queue_.front());
      queue_.pop_front();
    }
    const bool accepted = answer(request);
    wipe(request.password);
    request.done(accepted);
  }
}

// Verifies one request against the current file, from the cache if it can.
bool CredentialChecker::answer(Request& request) {
  const CacheKey key = cache_key(request.username, request.password);
  std::shared_ptr<const PasswordFile> file;
  uint64_t generation = 0;
  {
    std::lock_guard lock(mutex_);
    if (cache_lookup(key)) {
      ++stats_.accepted;
      return true;
    }
    file = file_;
    generation = generation_;
  }
  const bool accepted = file != nullptr && file->verify(request.username, request.password);
  std::lock_guard lock(mutex_);
  ++(accepted ? stats_.accepted : stats_.rejected);
  // A reload during the verification makes this answer stale for the cache.
  if (accepted && generation == generation_) cache_insert(key);
  return accepted;
}

bool CredentialChecker::cache_lookup(const CacheKey& key) {
  const auto found = cache_.find(key);
  if (found == cache_.end()) return false;
  lru_.splice(lru_.begin(), lru_, found->second);
  ++stats_.cache_hits;
  return true;
}

void CredentialChecker::cache_insert(const CacheKey& key) {
  if (options_.cache_limit == 0 || key == CacheKey{} || cache_.contains(key)) return;
  if (cache_.size() >= options_.cache_limit) {
    cache_.erase(lru_.back());
    lru_.pop_back();
  }
  lru_.push_front(key);
  cache_[key] = lru_.begin();
}

}  // namespace stellwerk::auth

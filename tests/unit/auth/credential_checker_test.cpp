// The credential checker: answers on its own threads, caches successes only,
// forgets them on reload, bounds its queue and its cache.
#include "auth/credential_checker.h"

#include <gtest/gtest.h>

#include <chrono>
#include <future>
#include <latch>
#include <thread>

namespace stellwerk::auth {
namespace {

using namespace std::chrono_literals;

// $6$ hashes (fast): alice/secret, bob/hunter2, carol/old.
std::shared_ptr<const PasswordFile> make_file(std::string_view extra = {}) {
  std::string text;
  for (const auto& [user, password] : {std::pair{"alice", "secret"}, {"bob", "hunter2"}, {"carol", "old"}}) {
    Result<PasswordHash, std::string> hash =
        hash_password(password, HashSettings{.scheme = HashScheme::sha512});
    text += fmt::format("{}:{}\n", user, encode_password_hash(*hash));
  }
  text += extra;
  Result<PasswordFile, Error> file = PasswordFile::parse(text);
  EXPECT_TRUE(file.ok());
  return std::make_shared<const PasswordFile>(std::move(*file));
}

struct Answer {
  bool accepted = false;
  std::thread::id thread;
};

// Submits one check and waits for its answer.
Answer ask(CredentialChecker& checker, std::string username, std::string password) {
  auto promise = std::make_shared<std::promise<Answer>>();
  std::future<Answer> answer = promise->get_future();
  Status<CheckerError> queued =
      checker.check(std::move(username), std::move(password), [promise](bool accepted) {
        promise->set_value(Answer{accepted, std::this_thread::get_id()});
      });
  EXPECT_TRUE(queued.ok());
  EXPECT_EQ(answer.wait_for(10s), std::future_status::ready);
  return answer.get();
}

TEST(CredentialChecker, AnswersOnItsOwnThread) {
  CredentialChecker checker(make_file());
  const Answer good = ask(checker, "alice", "secret");
  EXPECT_TRUE(good.accepted);
  EXPECT_NE(good.thread, std::this_thread::get_id());
  EXPECT_FALSE(ask(checker, "alice", "wrong").accepted);
  EXPECT_FALSE(ask(checker, "nobody", "secret").accepted);
  EXPECT_FALSE(ask(checker, "bob", "secret").accepted);  // alice's password is not bob's
}

TEST(CredentialChecker, CachesSuccessesOnly) {
  CredentialChecker checker(make_file());
  EXPECT_FALSE(checker.recently_verified("alice", "secret"));
  EXPECT_TRUE(ask(checker, "alice", "secret").accepted);
  EXPECT_TRUE(checker.recently_verified("alice", "secret"));
  EXPECT_FALSE(checker.recently_verified("alice", "secreT"));
  EXPECT_FALSE(checker.recently_verified("alicesecret", ""));

  EXPECT_FALSE(ask(checker, "bob", "wrong").accepted);
  EXPECT_FALSE(checker.recently_verified("bob", "wrong"));

  // A repeated check is answered from the cache.
  const uint64_t hits_before = checker.stats().cache_hits;
  EXPECT_TRUE(ask(checker, "alice", "secret").accepted);
  const CredentialChecker::Stats stats = checker.stats();
  EXPECT_EQ(stats.cache_hits, hits_before + 1);
  EXPECT_EQ(stats.cached, 1u);
  EXPECT_EQ(stats.accepted, 2u);
  EXPECT_EQ(stats.rejected, 1u);
  EXPECT_EQ(stats.checks, 3u);
}

TEST(CredentialChecker, ReloadForgetsCachedResults) {
  CredentialChecker checker(make_file());
  EXPECT_TRUE(ask(checker, "alice", "secret").accepted);
  ASSERT_TRUE(checker.recently_verified("alice", "secret"));

  // The new file no longer has alice.
  Result<PasswordFile, Error> without_alice = PasswordFile::parse("");
  ASSERT_TRUE(without_alice.ok());
  checker.reload(std::make_shared<const PasswordFile>(std::move(*without_alice)));
  EXPECT_FALSE(checker.recently_verified("alice", "secret"));
  EXPECT_EQ(checker.stats().cached, 0u);
  EXPECT_FALSE(ask(checker, "alice", "secret").accepted);
}

TEST(CredentialChecker, CacheIsBoundedLeastRecentlyUsedFirst) {
  CredentialChecker checker(make_file(), CredentialChecker::Options{.threads = 1, .cache_limit = 2});
  EXPECT_TRUE(ask(checker, "alice", "secret").accepted);
  EXPECT_TRUE(ask(checker, "bob", "hunter2").accepted);
  EXPECT_TRUE(checker.recently_verified("alice", "secret"));  // alice is now the most recent
  EXPECT_TRUE(ask(checker, "carol", "old").accepted);         // evicts bob
  EXPECT_EQ(checker.stats().cached, 2u);
  EXPECT_TRUE(checker.recently_verified("alice", "secret"));
  EXPECT_FALSE(checker.recently_verified("bob", "hunter2"));
  EXPECT_TRUE(checker.recently_verified("carol", "old"));
}

TEST(CredentialChecker, RefusesWhenTheQueueIsFull) {
  CredentialChecker checker(make_file(), CredentialChecker::Options{.threads = 1, .queue_limit = 2});
  // The first callback holds the only thread, so the next checks stay queued.
  std::latch started(1);
  std::latch release(1);
  ASSERT_TRUE(checker
                  .check("alice", "secret",
                         [&](bool) {
                           started.count_down();
                           release.wait();
                         })
                  .ok());
  started.wait();
  ASSERT_TRUE(checker.check("bob", "hunter2", [](bool) {}).ok());
  ASSERT_TRUE(checker.check("carol", "old", [](bool) {}).ok());
  bool called = false;
  Status<CheckerError> refused = checker.check("alice", "secret", [&](bool) { called = true; });
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error(), CheckerError::queue_full);
  EXPECT_EQ(checker.stats().refused_queue_full, 1u);
  EXPECT_EQ(checker.stats().queued, 2u);
  release.count_down();
  EXPECT_FALSE(called);
}

TEST(CredentialChecker, DestructionAnswersQueuedChecksFalse) {
  std::latch started(1);
  std::latch release(1);
  std::promise<bool> queued_answer;
  std::thread releaser;
  {
    CredentialChecker checker(make_file(), CredentialChecker::Options{.threads = 1});
    ASSERT_TRUE(checker
                    .check("alice", "secret",
                           [&](bool) {
                             started.count_down();
                             release.wait();
                           })
                    .ok());
    started.wait();
    ASSERT_TRUE(
        checker.check("alice", "secret", [&](bool accepted) { queued_answer.set_value(accepted); }).ok());
    // The busy thread must stay busy until the destructor has taken the
    // queue; nothing observable marks that moment, hence the generous pause.
    releaser = std::thread([&] {
      std::this_thread::sleep_for(200ms);
      release.count_down();
    });
  }
  releaser.join();
  std::future<bool> answer = queued_answer.get_future();
  ASSERT_EQ(answer.wait_for(0s), std::future_status::ready);
  EXPECT_FALSE(answer.get());
}

TEST(CredentialChecker, TwoThreadsAnswerConcurrentChecks) {
  CredentialChecker checker(make_file(), CredentialChecker::Options{.threads = 2});
  std::vector<std::future<bool>> answers;
  for (int i = 0; i < 50; ++i) {
    auto promise = std::make_shared<std::promise<bool>>();
    answers.push_back(promise->get_future());
    const bool good = i % 2 == 0;
    ASSERT_TRUE(
        checker.check("carol", good ? "old" : "bad", [promise](bool ok) { promise->set_value(ok); }).ok());
  }
  for (size_t i = 0; i < answers.size(); ++i) {
    ASSERT_EQ(answers[i].wait_for(10s), std::future_status::ready);
    EXPECT_EQ(answers[i].get(), i % 2 == 0);
  }
}

TEST(CredentialChecker, NullFileRejectsEverything) {
  CredentialChecker checker(nullptr);
  EXPECT_FALSE(ask(checker, "alice", "secret").accepted);
}

}  // namespace
}  // namespace stellwerk::auth

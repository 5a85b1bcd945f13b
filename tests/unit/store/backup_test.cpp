// Online backups (Store::backup): the backup directory opens as a store with
// the live store's state at a durable sequence, survives a power loss once
// reported done, refuses a directory that holds anything, and on the real
// file system gets private modes.
#include "store/backup.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <future>

#include "store/memory_env.h"
#include "store/store.h"
#include "store_test_util.h"

namespace stellwerk::store {
namespace {

using testing::describe;
using testing::fixed_time;
using testing::make_message;
using testing::Script;
using namespace std::chrono_literals;

constexpr char kLive[] = "/db";
constexpr char kBackup[] = "/backups/one";

Options options(std::string dir) {
  Options o;
  o.dir = std::move(dir);
  o.autosave_interval = 0s;
  o.max_log_bytes = 0;
  return o;
}

void run_script(Store& store, Script& script, size_t steps) {
  for (size_t i = 0; i < steps; ++i) {
    Batch batch = store.batch(fixed_time());
    script.step(i, batch);
    auto sequence = store.commit(std::move(batch));
    ASSERT_TRUE(sequence.ok());
    ASSERT_TRUE(store.wait_durable(*sequence, 5s));
  }
}

// Starts a backup and waits for its outcome; "" means success.
std::string backup_and_wait(Store& store, const std::string& dir) {
  std::promise<std::string> outcome;
  auto future = outcome.get_future();
  store.backup(dir, [&](Status<std::string> status) { outcome.set_value(status.ok() ? "" : status.error()); });
  if (future.wait_for(10s) != std::future_status::ready) return "timed out";
  return future.get();
}

Store::Opened open_or_die(Env& env, std::string dir) {
  auto opened = Store::open(env, options(std::move(dir)));
  EXPECT_TRUE(opened.ok());
  return std::move(*opened);
}

TEST(Backup, OpensAsTheSameStateAtTheSameSequence) {
  MemoryEnv env;
  Script script;
  Sequence live_sequence = 0;
  {
    auto live = open_or_die(env, kLive);
    run_script(*live.store, script, 9);
    live_sequence = live.store->durable_up_to();
    ASSERT_EQ(backup_and_wait(*live.store, kBackup), "");
  }
  const RecoveredState live_state = open_or_die(env, kLive).state;
  auto restored = open_or_die(env, kBackup);
  EXPECT_EQ(describe(restored.state), describe(live_state));
  EXPECT_FALSE(describe(restored.state).empty());
  EXPECT_EQ(restored.state.sequence, live_sequence);
  EXPECT_TRUE(restored.report.snapshot_found);
  EXPECT_FALSE(restored.report.snapshot_damaged);
  EXPECT_TRUE(restored.report.set_aside.empty());
}

TEST(Backup, HoldsASnapshotAndAnEmptySegmentThatContinuesIt) {
  MemoryEnv env;
  Script script;
  auto live = open_or_die(env, kLive);
  run_script(*live.store, script, 4);
  const Sequence sequence = live.store->durable_up_to();
  ASSERT_EQ(backup_and_wait(*live.store, kBackup), "");
  const auto names = env.names(kBackup);
  ASSERT_EQ(names.size(), 2u);
  EXPECT_EQ(names[0], "state.snap");
  EXPECT_EQ(names[1], fmt::format("wal-{:020}.log", sequence + 1));
}

TEST(Backup, LiveStoreGoesOnAndLaterChangesStayOutOfTheBackup) {
  MemoryEnv env;
  Script script;
  std::string at_backup;
  {
    auto live = open_or_die(env, kLive);
    run_script(*live.store, script, 5);
    ASSERT_EQ(backup_and_wait(*live.store, kBackup), "");
    Batch batch = live.store->batch(fixed_time());
    batch.put_session("later", SessionInfo{60, std::nullopt, 0, 0});
    auto sequence = live.store->commit(std::move(batch));
    ASSERT_TRUE(sequence.ok());
    ASSERT_TRUE(live.store->wait_durable(*sequence, 5s));
  }
  const std::string live_now = describe(open_or_die(env, kLive).state);
  const std::string restored = describe(open_or_die(env, kBackup).state);
  EXPECT_NE(live_now.find("session later"), std::string::npos);
  EXPECT_EQ(restored.find("session later"), std::string::npos);
}

TEST(Backup, SurvivesPowerLossOnceDone) {
  MemoryEnv env;
  Script script;
  std::string expected;
  {
    auto live = open_or_die(env, kLive);
    run_script(*live.store, script, 9);
    ASSERT_EQ(backup_and_wait(*live.store, kBackup), "");
    env.crash_after(0, false);  // nothing after the backup reaches the disk
  }
  env.power_loss(MemoryEnv::Unsynced::drop);
  expected = describe(open_or_die(env, kLive).state);
  EXPECT_EQ(describe(open_or_die(env, kBackup).state), expected);
}

TEST(Backup, UnderPolicyIntervalSyncsTheLogFirst) {
  // The backup's sequence must be durable in the live store too, or a power
  // loss could leave the backup ahead of the store it was taken from.
  MemoryEnv env;
  Options o = options(kLive);
  o.policy = SyncPolicy::interval;
  o.sync_interval = 1h;
  auto opened = Store::open(env, o);
  ASSERT_TRUE(opened.ok());
  Store& live = *opened->store;
  Batch batch = live.batch(fixed_time());
  batch.put_session("c", SessionInfo{60, std::nullopt, 0, 0});
  auto sequence = live.commit(std::move(batch));
  ASSERT_TRUE(sequence.ok());
  ASSERT_TRUE(live.wait_durable(*sequence, 5s));
  const uint64_t syncs_before = live.stats().syncs;
  ASSERT_EQ(backup_and_wait(live, kBackup), "");
  EXPECT_EQ(live.stats().syncs, syncs_before + 1);
}

TEST(Backup, RefusesADirectoryThatHoldsAnything) {
  MemoryEnv env;
  auto live = open_or_die(env, kLive);
  ASSERT_TRUE(env.create_dir(kBackup).ok());
  env.set_contents(std::string(kBackup) + "/notes.txt", "mine");
  const std::string error = backup_and_wait(*live.store, kBackup);
  EXPECT_NE(error.find("not empty"), std::string::npos) << error;
  EXPECT_EQ(env.contents(std::string(kBackup) + "/notes.txt"), "mine");
  EXPECT_EQ(env.names(kBackup).size(), 1u);
  // Nor into its own directory.
  EXPECT_NE(backup_and_wait(*live.store, kLive), "");
}

TEST(Backup, ReportsAFailedWrite) {
  MemoryEnv env;
  auto live = open_or_die(env, kLive);
  env.crash_after(2, false);
  EXPECT_NE(backup_and_wait(*live.store, kBackup), "");
}

TEST(Backup, TwoBackupsInARowBothOpen) {
  MemoryEnv env;
  Script script;
  auto live = open_or_die(env, kLive);
  run_script(*live.store, script, 3);
  ASSERT_EQ(backup_and_wait(*live.store, "/b1"), "");
  run_script(*live.store, script, 6);
  ASSERT_EQ(backup_and_wait(*live.store, "/b2"), "");
  EXPECT_NE(describe(open_or_die(env, "/b1").state), describe(open_or_die(env, "/b2").state));
}

class PosixBackup : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/stellwerk-backup-XXXXXX";
    ASSERT_NE(mkdtemp(pattern), nullptr);
    root_ = pattern;
  }
  void TearDown() override { std::filesystem::remove_all(root_); }

  static mode_t mode_of(const std::string& path) {
    struct stat info {};
    EXPECT_EQ(::stat(path.c_str(), &info), 0) << path;
    return info.st_mode & 0777;
  }

  std::string root_;
};

TEST_F(PosixBackup, CreatesAPrivateDirectoryAndFilesThatOpen) {
  const std::string live_dir = root_ + "/live";
  const std::string backup_dir = root_ + "/copies/today";
  {
    auto live = open_or_die(posix_env(), live_dir);
    Batch batch = live.store->batch(fixed_time());
    batch.put_session("c", SessionInfo{60, std::nullopt, 0, 0});
    batch.retain(make_message("t", "p", mqtt::QoS::at_least_once, true));
    auto sequence = live.store->commit(std::move(batch));
    ASSERT_TRUE(sequence.ok());
    ASSERT_TRUE(live.store->wait_durable(*sequence, 5s));
    ASSERT_EQ(backup_and_wait(*live.store, backup_dir), "");
  }
  EXPECT_EQ(mode_of(backup_dir), 0700u);
  for (const auto& entry : std::filesystem::directory_iterator(backup_dir)) {
    EXPECT_EQ(mode_of(entry.path()), 0600u) << entry.path();
  }
  auto restored = open_or_die(posix_env(), backup_dir);
  EXPECT_EQ(restored.state.sessions.size(), 1u);
  ASSERT_EQ(restored.state.retained.size(), 1u);
  EXPECT_EQ(restored.state.retained[0]->payload(), "p");
}

}  // namespace
}  // namespace stellwerk::store

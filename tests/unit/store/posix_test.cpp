// The store on the real file system in a fresh directory under /tmp: file
// modes, a restart, and the group-commit throughput with fdatasync, printed
// for the record (benchmarks are not tests: nothing here asserts a speed).
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <vector>

#include "store/store.h"
#include "store_test_util.h"

namespace stellwerk::store {
namespace {

using testing::fixed_time;
using testing::make_message;
using namespace std::chrono_literals;

class PosixStore : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/stellwerk-store-XXXXXX";
    ASSERT_NE(mkdtemp(pattern), nullptr);
    root_ = pattern;
    dir_ = root_ + "/nested/db";  // created by open
  }
  void TearDown() override { std::filesystem::remove_all(root_); }

  Options options(SyncPolicy policy = SyncPolicy::always) const {
    Options o;
    o.dir = dir_;
    o.policy = policy;
    return o;
  }

  static mode_t mode_of(const std::string& path) {
    struct stat info {};
    EXPECT_EQ(::stat(path.c_str(), &info), 0) << path;
    return info.st_mode & 0777;
  }

  std::string root_;
  std::string dir_;
};

TEST_F(PosixStore, CreatesPrivateFilesAndRecoversThem) {
  {
    auto opened = Store::open(posix_env(), options());
    ASSERT_TRUE(opened.ok());
    Batch batch = opened->store->batch(fixed_time());
    batch.put_session("c", SessionInfo{60, std::nullopt, 0, 0});
    batch.retain(make_message("t", "p", mqtt::QoS::at_least_once, true));
    auto sequence = opened->store->commit(std::move(batch));
    ASSERT_TRUE(sequence.ok());
    ASSERT_TRUE(opened->store->wait_durable(*sequence, 5s));
  }
  EXPECT_EQ(mode_of(dir_), 0700u);
  for (const auto& entry : std::filesystem::directory_iterator(dir_)) {
    EXPECT_EQ(mode_of(entry.path()), 0600u) << entry.path();
  }
  auto reopened = Store::open(posix_env(), options());
  ASSERT_TRUE(reopened.ok());
  ASSERT_EQ(reopened->state.sessions.size(), 1u);
  ASSERT_EQ(reopened->state.retained.size(), 1u);
  EXPECT_EQ(reopened->state.retained[0]->payload(), "p");
}

TEST_F(PosixStore, OverwriteWritesFromTheStartAndKeepsTheRestPrivate) {
  ASSERT_TRUE(posix_env().create_dir(dir_).ok());
  const std::string path = dir_ + "/f";
  {
    auto file = posix_env().create(path);
    ASSERT_TRUE(file.ok());
    ASSERT_TRUE((*file)->append("0123456789").ok());
  }
  ASSERT_EQ(::chmod(path.c_str(), 0644), 0);
  auto file = posix_env().overwrite(path);
  ASSERT_TRUE(file.ok());
  ASSERT_TRUE((*file)->append("ab").ok());
  ASSERT_TRUE((*file)->append("cd").ok());
  ASSERT_TRUE((*file)->sync().ok());
  EXPECT_EQ(posix_env().read_all(path).value(), "abcd456789");
  EXPECT_EQ(mode_of(path), 0600u);
  EXPECT_FALSE(posix_env().overwrite(dir_ + "/missing").ok());
}

// One producer commits batches while at most `window` of them are not yet
// durable, like a broker whose `window` clients each wait for their
// acknowledgement before publishing again (0: no limit, wait at the end).
void measure(const Options& options, const char* label, int batches, bool with_body, size_t window) {
  auto opened = Store::open(posix_env(), options);
  ASSERT_TRUE(opened.ok());
  Store& store = *opened->store;
  const auto message = make_message("sensors/1", std::string(100, 'v'), mqtt::QoS::at_least_once, false);
  const auto start = std::chrono::steady_clock::now();
  Sequence last = 0;
  std::vector<Sequence> sequences;
  for (int i = 0; i < batches; ++i) {
    if (window && sequences.size() >= window) {
      ASSERT_TRUE(store.wait_durable(sequences[sequences.size() - window], 60s));
    }
    Batch batch = store.batch(fixed_time());
    if (with_body) {
      batch.enqueue("client-0001", {message, mqtt::QoS::at_least_once, false, {}});
    } else {
      batch.add_inbound_qos2("client-0001", static_cast<uint16_t>(i));
    }
    last = *store.commit(std::move(batch));
    sequences.push_back(last);
  }
  ASSERT_TRUE(store.wait_durable(last, 60s));
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const StoreStats stats = store.stats();
  std::printf(
      "[ measure  ] %-42s %8.0f records/s durable, %6.0f batches/s, %llu writes, %llu syncs, %.0f "
      "records per write\n",
      label, static_cast<double>(stats.records) / seconds, batches / seconds,
      static_cast<unsigned long long>(stats.writes), static_cast<unsigned long long>(stats.syncs),
      static_cast<double>(stats.records) / static_cast<double>(std::max<uint64_t>(1, stats.writes)));
}

TEST_F(PosixStore, GroupCommitThroughputIsPrinted) {
  measure(options(SyncPolicy::always), "always, small records, no window", 200000, false, 0);
  measure(options(SyncPolicy::always), "always, small records, 1000 waiting", 200000, false, 1000);
  measure(options(SyncPolicy::always), "always, 100-byte publishes, 1000 waiting", 100000, true, 1000);
  measure(options(SyncPolicy::always), "always, small records, 1 waiting", 300, false, 1);
  measure(options(SyncPolicy::interval), "interval, small records, 1000 waiting", 200000, false, 1000);
}

}  // namespace
}  // namespace stellwerk::store

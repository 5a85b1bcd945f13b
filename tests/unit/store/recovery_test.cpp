// Recovery under failure: a crash at every mutating file operation of a
// scripted run, torn tails, every single-bit flip of a log segment, damaged
// snapshots and gaps between segments. In every case the store opens, and
// what it recovers is the state after some prefix of the committed batches
// that includes every batch reported durable.
#include "store/recovery.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "store/frame.h"
#include "store/memory_env.h"
#include "store/snapshot.h"
#include "store/store.h"
#include "store_test_util.h"

namespace stellwerk::store {
namespace {

using testing::describe;
using testing::fixed_time;
using testing::Script;
using namespace std::chrono_literals;

constexpr char kDir[] = "/db";
const std::string kSnapshot = std::string(kDir) + "/state.snap";
const std::string kFirstSegment = std::string(kDir) + "/wal-00000000000000000001.log";

Options options(uint64_t max_log_bytes = 0) {
  Options o;
  o.dir = kDir;
  o.autosave_interval = 0s;
  o.max_log_bytes = max_log_bytes;
  return o;
}

// Runs steps [from, to) of a script; a checkpoint before step 6 puts a
// snapshot in the middle. Returns how many steps became durable.
struct Progress {
  size_t committed = 0;
  size_t durable = 0;
};
Progress run_steps(Store& store, Script& script, size_t from, size_t to) {
  Progress progress{from, from};
  for (size_t i = from; i < to; ++i) {
    if (i == 6) (void)store.checkpoint();
    Batch batch = store.batch(fixed_time());
    script.step(i, batch);
    auto sequence = store.commit(std::move(batch));
    if (!sequence.ok()) break;
    progress.committed = i + 1;
    if (!store.wait_durable(*sequence, 5s)) break;
    progress.durable = i + 1;
  }
  return progress;
}

Store::Opened open_ok(Env& env) {
  auto opened = Store::open(env, options());
  EXPECT_TRUE(opened.ok());
  return std::move(*opened);
}

// The state after each prefix of the script, from clean runs.
const std::vector<std::string>& prefix_states() {
  static const std::vector<std::string> states = [] {
    std::vector<std::string> out;
    for (size_t steps = 0; steps <= Script::kSteps; ++steps) {
      MemoryEnv env;
      {
        auto opened = open_ok(env);
        Script script;
        run_steps(*opened.store, script, 0, steps);
      }
      out.push_back(describe(open_ok(env).state));
    }
    return out;
  }();
  return states;
}

// Which prefix a recovered state is, or -1.
int prefix_of(const RecoveredState& state) {
  const auto& states = prefix_states();
  // Several prefixes can describe the same state; take the longest.
  for (size_t k = states.size(); k-- > 0;) {
    if (states[k] == describe(state)) return static_cast<int>(k);
  }
  return -1;
}

struct CrashCase {
  MemoryEnv::Unsynced unsynced;
  bool torn;
  size_t clean_steps;  // run before the crashing run, without faults
  // Nonzero: snapshots start in the background while later steps commit.
  uint64_t max_log_bytes = 0;
};

// Returns false once a run got through without reaching its crash point.
bool crash_and_recover(const CrashCase& c, size_t crash_at) {
  MemoryEnv env;
  if (c.clean_steps) {
    auto opened = open_ok(env);
    Script script;
    run_steps(*opened.store, script, 0, c.clean_steps);
  }
  env.crash_after(crash_at, c.torn);
  Progress progress{c.clean_steps, c.clean_steps};
  if (auto opened = Store::open(env, options(c.max_log_bytes)); opened.ok()) {
    Script script;
    script.adopt(opened->state);
    progress = run_steps(*opened->store, script, c.clean_steps, Script::kSteps);
  }
  const bool crashed = env.crashed();
  env.power_loss(c.unsynced);

  const RecoveredState first = open_ok(env).state;
  const int k = prefix_of(first);
  EXPECT_GE(k, static_cast<int>(progress.durable)) << "crash at " << crash_at << ":\n" << describe(first);
  EXPECT_LE(k, static_cast<int>(progress.committed)) << "crash at " << crash_at;
  // What one recovery found, the next finds again.
  EXPECT_EQ(describe(open_ok(env).state), describe(first)) << "crash at " << crash_at;
  return crashed;
}

void crash_everywhere(const CrashCase& c) {
  size_t points = 0;
  while (crash_and_recover(c, points) && !::testing::Test::HasFailure()) ++points;
  EXPECT_GT(points, 20u);  // the script really did that many file operations
}

TEST(Recovery, CrashAtEveryOperationThenPowerLoss) {
  crash_everywhere({MemoryEnv::Unsynced::drop, false, 0});
}

TEST(Recovery, CrashAtEveryOperationWithTornWritesKeptHalf) {
  crash_everywhere({MemoryEnv::Unsynced::keep_half, true, 0});
}

TEST(Recovery, ProcessCrashAtEveryOperationKeepsWhatWasWritten) {
  crash_everywhere({MemoryEnv::Unsynced::keep, true, 0});
}

// The snapshot thread's file operations interleave with the log's, so the
// crash point lands in a snapshot, a segment start or a commit, in any order.
TEST(Recovery, CrashAtEveryOperationWithSnapshotsInTheBackground) {
  crash_everywhere({MemoryEnv::Unsynced::drop, false, 0, 64});
  crash_everywhere({MemoryEnv::Unsynced::keep_half, true, 0, 64});
  crash_everywhere({MemoryEnv::Unsynced::keep, true, 3, 64});
}

TEST(Recovery, CrashAtEveryOperationWhileRecoveringAnExistingStore) {
  crash_everywhere({MemoryEnv::Unsynced::drop, true, 5});
  crash_everywhere({MemoryEnv::Unsynced::keep_half, true, 5});
}

// A directory holding the whole script in one segment after an empty snapshot.
struct Files {
  std::string snapshot;
  std::string segment;
};
const Files& script_files() {
  static const Files files = [] {
    MemoryEnv env;
    {
      auto opened = open_ok(env);
      Script script;
      for (size_t i = 0; i < Script::kSteps; ++i) {
        Batch batch = opened.store->batch(fixed_time());
        script.step(i, batch);
        EXPECT_TRUE(opened.store->commit(std::move(batch)).ok());
      }
    }
    return Files{*env.contents(kSnapshot), *env.contents(kFirstSegment)};
  }();
  return files;
}

Store::Opened open_with(MemoryEnv& env, const std::string& segment) {
  env.set_contents(kSnapshot, script_files().snapshot);
  env.set_contents(kFirstSegment, segment);
  return open_ok(env);
}

TEST(Recovery, IntactLogRecoversEverything) {
  MemoryEnv env;
  auto opened = open_with(env, script_files().segment);
  EXPECT_EQ(prefix_of(opened.state), static_cast<int>(Script::kSteps));
  EXPECT_TRUE(opened.report.set_aside.empty());
}

TEST(Recovery, TornTailAtEveryLengthIsDroppedAndSetAside) {
  const std::string& segment = script_files().segment;
  int previous = 0;
  for (size_t size = 0; size < segment.size(); ++size) {
    MemoryEnv env;
    auto opened = open_with(env, segment.substr(0, size));
    const int k = prefix_of(opened.state);
    ASSERT_GE(k, previous) << "cut at " << size;
    previous = k;
    const bool at_batch_end = opened.report.set_aside.empty();
    if (!at_batch_end) {
      EXPECT_EQ(opened.report.torn_tails, 1u) << "cut at " << size;
      EXPECT_TRUE(env.contents(kDir + std::string("/") + opened.report.set_aside[0])) << "kept aside";
    }
  }
  EXPECT_EQ(previous, static_cast<int>(Script::kSteps) - 1);
}

// A salted segment (every segment since 5 December 2026) may be a reused
// file: whatever follows its last valid frame, zeros included, is its end.
TEST(Recovery, ZeroedTailEndsASaltedSegment) {
  MemoryEnv env;
  auto opened = open_with(env, script_files().segment + std::string(4096, '\0'));
  EXPECT_EQ(prefix_of(opened.state), static_cast<int>(Script::kSteps));
  EXPECT_EQ(opened.report.torn_tails, 0u);
  EXPECT_TRUE(opened.report.set_aside.empty());
}

// The offset in `segment` of its last frame, and the CRC seed of its frames.
std::pair<size_t, uint32_t> last_frame_of(const std::string& segment) {
  const auto header = frame::parse_segment_header(segment);
  EXPECT_TRUE(header);
  if (!header) return {0, 0};
  frame::Reader reader(std::string_view(segment).substr(header->size), frame::Reader::Check::crc,
                       header->seed);
  frame::Frame read;
  size_t last = 0;
  for (size_t at = 0; reader.next(read) == frame::ReadStatus::ok; at = reader.offset()) last = at;
  return {header->size + last, header->seed};
}

TEST(Recovery, EveryBitFlipInTheLogLeavesAValidPrefix) {
  const std::string& segment = script_files().segment;
  // A flipped bit in the last frame's sequence field leaves a frame that
  // neither continues the log nor is followed by one that does: in a file
  // that may be reused that is the end of the records, not damage.
  const size_t last_sequence_bit = (last_frame_of(segment).first + 9) * 8;
  for (size_t bit = 0; bit < segment.size() * 8; ++bit) {
    MemoryEnv env;
    env.set_contents(kSnapshot, script_files().snapshot);
    env.set_contents(kFirstSegment, segment);
    env.flip_bit(kFirstSegment, bit);
    auto opened = Store::open(env, options());
    ASSERT_TRUE(opened.ok()) << "bit " << bit;
    ASSERT_GE(prefix_of(opened->state), 0) << "bit " << bit;
    const bool reads_as_the_end = bit >= last_sequence_bit && bit < last_sequence_bit + 64;
    ASSERT_EQ(opened->report.set_aside.size(), reads_as_the_end ? 0u : 1u) << "bit " << bit;
  }
}

TEST(Recovery, DamagedSnapshotIsSetAsideAndItsValidPartUsed) {
  MemoryEnv env;
  {
    auto opened = open_ok(env);
    Script script;
    run_steps(*opened.store, script, 0, Script::kSteps);  // with a snapshot before step 6
  }
  const std::string snapshot = *env.contents(kSnapshot);
  env.flip_bit(kSnapshot, (snapshot.size() - 3) * 8 + 4);  // inside the snapshot_end record
  std::string damaged = snapshot;
  damaged[snapshot.size() - 3] = static_cast<char>(damaged[snapshot.size() - 3] ^ 0x10);
  auto opened = open_ok(env);
  EXPECT_TRUE(opened.report.snapshot_damaged);
  ASSERT_EQ(opened.report.set_aside.size(), 1u);
  EXPECT_TRUE(opened.report.set_aside[0].starts_with("state.snap.corrupt-"));
  EXPECT_EQ(env.contents(kDir + std::string("/") + opened.report.set_aside[0]), damaged);
  // Every record before the damage was valid, and the log after the snapshot applies.
  EXPECT_EQ(prefix_of(opened.state), static_cast<int>(Script::kSteps));
  EXPECT_TRUE(open_ok(env).report.set_aside.empty());  // the new snapshot is sound
}

TEST(Recovery, UnreadableSnapshotHeaderStillLetsTheLogApply) {
  MemoryEnv env;
  {
    auto opened = open_ok(env);
    Script script;
    run_steps(*opened.store, script, 0, 2);
    ASSERT_TRUE(opened.store->checkpoint().ok());
    run_steps(*opened.store, script, 2, 4);
  }
  env.flip_bit(kSnapshot, 3);  // the magic
  auto opened = open_ok(env);
  EXPECT_TRUE(opened.report.snapshot_damaged);
  // Sessions from the snapshot are gone; the log's later changes are there.
  ASSERT_EQ(opened.state.sessions.size(), 0u);
}

// An unsalted segment, as brokers wrote them before 5 December 2026.
std::string segment_of(Sequence first, const std::vector<Record>& records) {
  std::string bytes = frame::file_header(frame::kSegmentMagic, first);
  for (size_t i = 0; i < records.size(); ++i) frame::append(bytes, records[i], true, first + i);
  return bytes;
}

std::string frame_sealed(const Record& record, Sequence sequence, uint32_t seed) {
  std::string bytes;
  frame::append_unsealed(bytes, record, true);
  frame::seal(bytes, sequence, seed);
  return bytes;
}

// Bytes after the last record of a reused file may hold frames that were
// valid in its former life (earlier sequences), or frames that a client's
// payload carried in: under another salt none is a record of this segment.
// Only one that claims the sequence that was due reads as damage; nothing
// of it is applied either way.
Store::Opened open_salted_segment(const std::string& tail) {
  const uint32_t seed = frame::crc_seed(7);
  const std::string segment = frame::salted_segment_header(100, 7) +
                              frame_sealed(record::SessionPut{"a", {}}, 100, seed) +
                              frame_sealed(record::SessionPut{"b", {}}, 101, seed) + tail;
  MemoryEnv env;
  env.set_contents("/db/wal-00000000000000000100.log", segment);
  return open_ok(env);
}

TEST(Recovery, FramesOfAnotherSaltAfterTheRecordsAreNotRead) {
  const std::string former_life = frame_sealed(record::SessionPut{"old", {}}, 40, frame::crc_seed(6)) +
                                  frame_sealed(record::SessionPut{"unsalted", {}}, 102, 0);
  auto opened = open_salted_segment(former_life);
  ASSERT_EQ(opened.state.sessions.size(), 2u);
  EXPECT_EQ(opened.state.sessions[1].client_id, "b");
  EXPECT_TRUE(opened.report.set_aside.empty());
  EXPECT_EQ(opened.report.torn_tails, 0u);

  auto claiming = open_salted_segment(frame_sealed(record::SessionPut{"posing", {}}, 102, 0));
  EXPECT_EQ(claiming.state.sessions.size(), 2u);
  EXPECT_EQ(claiming.report.set_aside.size(), 1u);
}

// A damaged frame with valid frames of the same salt after it is damage,
// not the end of a reused file: logged, and the file set aside.
TEST(Recovery, DamageBeforeValidFramesOfTheSameSaltIsSetAside) {
  const uint32_t seed = frame::crc_seed(7);
  std::string damaged = frame_sealed(record::SessionPut{"b", {}}, 2, seed);
  damaged[damaged.size() - 1] ^= 0x20;
  damaged[13] ^= 0x01;  // its sequence field too: only the frame after it shows this is damage
  const std::string segment = frame::salted_segment_header(1, 7) +
                              frame_sealed(record::SessionPut{"a", {}}, 1, seed) + damaged +
                              frame_sealed(record::SessionPut{"c", {}}, 3, seed);
  MemoryEnv env;
  env.set_contents("/db/wal-00000000000000000001.log", segment);
  auto opened = open_ok(env);
  ASSERT_EQ(opened.state.sessions.size(), 1u);
  EXPECT_EQ(opened.report.set_aside.size(), 1u);
}

// A reused file whose new header was synced but whose rename a crash undid:
// it still has an older segment's name, and is not read as one.
TEST(Recovery, AReusedFileUnderItsOldNameIsNotRead) {
  MemoryEnv env;
  env.set_contents("/db/wal-00000000000000000001.log",
                   segment_of(1, {record::SessionPut{"a", {}}, record::SessionPut{"b", {}}}));
  env.set_contents("/db/wal-00000000000000000000.log", frame::salted_segment_header(3, 9) + "stale bytes");
  auto opened = open_ok(env);
  EXPECT_EQ(opened.state.sessions.size(), 2u);
  EXPECT_TRUE(opened.report.set_aside.empty());
}

TEST(Recovery, ZeroedTailOfAnUnsaltedSegmentIsATornTail) {
  MemoryEnv env;
  env.set_contents("/db/wal-00000000000000000001.log",
                   segment_of(1, {record::SessionPut{"a", {}}}) + std::string(4096, '\0'));
  auto opened = open_ok(env);
  EXPECT_EQ(opened.state.sessions.size(), 1u);
  EXPECT_EQ(opened.report.torn_tails, 1u);
}

TEST(Recovery, SegmentsAfterAGapAreSetAside) {
  MemoryEnv env;
  env.set_contents("/db/wal-00000000000000000001.log",
                   segment_of(1, {record::SessionPut{"a", {}}, record::SessionPut{"b", {}}}));
  env.set_contents("/db/wal-00000000000000000003.log", segment_of(3, {record::SessionPut{"c", {}}}));
  env.set_contents("/db/wal-00000000000000000007.log", segment_of(7, {record::SessionPut{"d", {}}}));
  env.set_contents("/db/wal-00000000000000000008.log", segment_of(8, {record::SessionPut{"e", {}}}));
  auto opened = open_ok(env);
  ASSERT_EQ(opened.state.sessions.size(), 3u);
  EXPECT_EQ(opened.state.sessions[2].client_id, "c");
  EXPECT_EQ(opened.state.sequence, 3u);
  EXPECT_EQ(opened.report.set_aside.size(), 2u);
}

// A snapshot taken in slices: session "a" was captured once the log held
// records 1-2 (its first message queued), though the snapshot starts at 0.
// Replaying from 1 skips what the slice holds and applies what came after.
TEST(Recovery, RecordsASessionsSliceHoldsAreNotAppliedAgain) {
  MemoryEnv env;
  ASSERT_TRUE(env.create_dir("/db").ok());
  const auto first = testing::make_message("t", "1", mqtt::QoS::at_least_once, false);
  const auto second = testing::make_message("t", "2", mqtt::QoS::at_least_once, false);
  const DeliveryRef ref1{1, mqtt::QoS::at_least_once, false, {}};
  const DeliveryRef ref2{2, mqtt::QoS::at_least_once, false, {}};
  auto writer = SnapshotWriter::start(env, "/db", 0);
  ASSERT_TRUE(writer.ok());
  writer->begin_slice(2);
  writer->add(record::MessagePut{1, first, 0});
  writer->add(record::SessionPut{"a", {}});
  writer->add(record::QueuePush{"a", ref1});
  ASSERT_TRUE(writer->finish().ok());
  ASSERT_TRUE(SnapshotWriter::publish(env, "/db").ok());
  std::string log = frame::file_header(frame::kSegmentMagic, 1);
  frame::append(log, record::MessagePut{1, first, 0}, false, 1);
  frame::append(log, record::QueuePush{"a", ref1}, true, 2);
  frame::append(log, record::MessagePut{2, second, 0}, false, 3);
  frame::append(log, record::QueuePush{"a", ref2}, true, 4);
  env.set_contents("/db/" + frame::segment_name(1), log);
  auto opened = open_ok(env);
  ASSERT_EQ(opened.state.sessions.size(), 1u);
  ASSERT_EQ(opened.state.sessions[0].queue.size(), 2u);
  EXPECT_EQ(opened.state.sessions[0].queue[0].message->payload(), "1");
  EXPECT_EQ(opened.state.sessions[0].queue[1].message->payload(), "2");
  EXPECT_EQ(opened.report.log_records, 3u);  // bodies are always put; only the first queue_push is skipped
}

TEST(Recovery, SequenceJumpInsideASegmentIsDamage) {
  MemoryEnv env;
  std::string bytes = segment_of(1, {record::SessionPut{"a", {}}});
  frame::append(bytes, record::SessionPut{"b", {}}, true, 5);
  env.set_contents("/db/wal-00000000000000000001.log", bytes);
  auto opened = open_ok(env);
  EXPECT_EQ(opened.state.sessions.size(), 1u);
  EXPECT_EQ(opened.report.set_aside.size(), 1u);
  EXPECT_EQ(opened.report.torn_tails, 0u);
}

TEST(Recovery, UnfinishedBatchIsNotApplied) {
  MemoryEnv env;
  std::string bytes = segment_of(1, {record::SessionPut{"a", {}}});
  frame::append(bytes, record::SessionPut{"b", {}}, false, 2);  // its batch never ended
  env.set_contents("/db/wal-00000000000000000001.log", bytes);
  auto opened = open_ok(env);
  EXPECT_EQ(opened.state.sessions.size(), 1u);
  EXPECT_EQ(opened.state.sequence, 1u);
  EXPECT_EQ(opened.report.torn_tails, 1u);
}

TEST(Recovery, LeftoverTemporarySnapshotIsRemoved) {
  MemoryEnv env;
  env.set_contents("/db/state.snap.tmp", "half a snapshot");
  auto opened = open_ok(env);
  const auto names = env.names(kDir);
  EXPECT_EQ(std::count(names.begin(), names.end(), "state.snap.tmp"), 0);
}

TEST(Recovery, GarbageFilesNeverStopAStart) {
  MemoryEnv env;
  env.set_contents(kSnapshot, "not a snapshot at all");
  env.set_contents(kFirstSegment, std::string(3, '\x7f'));
  env.set_contents("/db/unrelated.txt", "left alone");
  auto opened = open_ok(env);
  EXPECT_TRUE(opened.state.sessions.empty());
  EXPECT_EQ(opened.report.set_aside.size(), 2u);
  EXPECT_TRUE(env.contents("/db/unrelated.txt"));
}

}  // namespace
}  // namespace stellwerk::store

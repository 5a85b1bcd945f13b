// libFuzzer target for store recovery: arbitrary bytes become a snapshot and
// a log segment in an in-memory directory, and recovery must take whatever
// it is given without crashing. Whatever it recovers must then survive a
// snapshot round trip unchanged; anything else aborts.
//
// Input layout: flags:u8 | first_sequence:u8 | snapshot_size:u16le |
// snapshot bytes | segment bytes. The flags let the fuzzer skip checksums
// it cannot forge, so that it reaches record decoding and apply():
//   0x01 snapshot present        0x02 segment present
//   0x04 prepend a valid snapshot header    0x08 prepend a valid segment header
//   0x10 recompute frame CRCs    0x20 renumber frame sequences
//   0x40 the segment is salted (its frames' CRCs, when recomputed, too)
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "store/coding.h"
#include "store/crc32c.h"
#include "store/frame.h"
#include "store/memory_env.h"
#include "store/recovery.h"
#include "store/snapshot.h"
#include "quiet_log.h"

namespace {

using namespace stellwerk::store;

constexpr char kDir[] = "/db";

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "fuzz_store_recovery: %s\n", what);
  std::abort();
}

// Walks the frames by their declared lengths and makes each one's CRC (and,
// with `renumber`, its sequence) right.
void fix_frames(std::string& bytes, size_t start, Sequence first, bool renumber, uint32_t seed) {
  for (size_t offset = start; offset + frame::kHeaderSize <= bytes.size(); ++first) {
    const uint32_t length = coding::load_u32(bytes.data() + offset + 4);
    if (length > bytes.size() - offset - frame::kHeaderSize) return;
    if (renumber) coding::patch_u64(bytes, offset + 9, first);
    const uint32_t crc = crc32c::extend(seed, bytes.data() + offset + 4, frame::kHeaderSize - 4 + length);
    coding::patch_u32(bytes, offset, crc);
    offset += frame::kHeaderSize + length;
  }
}

struct FileKind {
  std::string header;  // prepended when not empty
  uint32_t seed = 0;   // of the frames' CRCs
};

std::string make_file(std::string_view body, const FileKind& kind, bool crcs, bool renumber,
                      Sequence sequence) {
  std::string file = kind.header;
  const size_t start = file.size();
  file += body;
  if (crcs) fix_frames(file, start, sequence, renumber, kind.seed);
  return file;
}

FileKind segment_kind(uint8_t flags, Sequence first) {
  const bool header = flags & 0x08;
  if (!(flags & 0x40)) return {header ? frame::file_header(frame::kSegmentMagic, first) : std::string(), 0};
  const uint64_t salt = first * 0x9E3779B97F4A7C15u;
  return {header ? frame::salted_segment_header(first, salt) : std::string(), frame::crc_seed(salt)};
}

void check_snapshot_round_trip(const Recovery& recovery) {
  MemoryEnv env;
  if (!env.create_dir(kDir).ok()) fail("create_dir");
  if (!write_snapshot(env, kDir, recovery.state, recovery.sequence).ok()) fail("write_snapshot");
  State reloaded;
  const SnapshotReadResult read = read_snapshot(*env.contents(std::string(kDir) + "/state.snap"), reloaded);
  if (!read.complete || read.sequence != recovery.sequence)
    fail("snapshot of the recovered state is incomplete");
  if (!(reloaded == recovery.state)) fail("snapshot of the recovered state differs");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 4) return 0;
  const uint8_t flags = data[0];
  const Sequence first = data[1];
  const size_t snapshot_size = std::min<size_t>(size - 4, data[2] | (data[3] << 8));
  const std::string_view input(reinterpret_cast<const char*>(data) + 4, size - 4);
  const bool crcs = flags & 0x10, renumber = flags & 0x20;

  MemoryEnv env;
  if (flags & 0x01) {
    const FileKind snapshot{flags & 0x04 ? frame::file_header(frame::kSnapshotMagic, first) : std::string(),
                            0};
    env.set_contents("/db/state.snap",
                     make_file(input.substr(0, snapshot_size), snapshot, crcs, false, first));
  }
  if (flags & 0x02) {
    env.set_contents(
        "/db/" + frame::segment_name(first + 1),
        make_file(input.substr(snapshot_size), segment_kind(flags, first + 1), crcs, renumber, first + 1));
  }
  if (!env.create_dir(kDir).ok()) fail("create_dir");
  auto recovered = recover(env, kDir, 1);
  if (!recovered.ok()) fail("recover failed on a readable directory");
  (void)recovered->state.to_recovered(stellwerk::store::TimeBase::now());
  check_snapshot_round_trip(*recovered);
  return 0;
}

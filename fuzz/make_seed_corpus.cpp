// Writes the seed corpus for fuzz_decoder: every sample packet of
// tests/unit/mqtt/sample_packets.h, for each version, one file per packet,
// prefixed with the version selector byte fuzz_decoder reads first.
//
// Usage: make_seed_corpus DIR   (DIR must exist or be creatable)
#include <cstdio>
#include <filesystem>
#include <string>

#include "mqtt/codec.h"
#include "sample_packets.h"

namespace {

using namespace stellwerk::mqtt;

bool write_file(const std::filesystem::path& path, const std::string& bytes) {
  std::FILE* file = std::fopen(path.c_str(), "wb");
  if (file == nullptr) return false;
  bool written = std::fwrite(bytes.data(), 1, bytes.size(), file) == bytes.size();
  return std::fclose(file) == 0 && written;
}

// Selector bytes as fuzz_decoder maps them: 0 -> 3.1, 1 -> 3.1.1, 2 -> 5.
struct VersionSeed {
  Version version;
  char selector;
  const char* name;
};
constexpr VersionSeed kVersions[] = {
    {Version::v31, 0, "v31"}, {Version::v311, 1, "v311"}, {Version::v5, 2, "v5"}};

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s DIR\n", argv[0]);
    return 2;
  }
  std::filesystem::path dir = argv[1];
  std::error_code error;
  std::filesystem::create_directories(dir, error);
  int count = 0;
  for (const VersionSeed& seed : kVersions) {
    for (const Packet& packet : samples::sample_packets(seed.version)) {
      std::string bytes(1, seed.selector);
      encode(packet, seed.version, bytes);
      std::string name = std::string(seed.name) + "_" + std::to_string(count++) + "_" +
                         packet_type_name(packet_type(packet));
      if (!write_file(dir / name, bytes)) {
        std::fprintf(stderr, "cannot write %s\n", (dir / name).c_str());
        return 1;
      }
    }
  }
  std::printf("wrote %d seeds to %s\n", count, dir.c_str());
  return 0;
}

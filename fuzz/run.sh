#!/usr/bin/env bash
# Builds fuzz_decoder and fuzz_store_recovery with clang-14, libFuzzer, ASan
# and UBSan in build-fuzz, writes the decoder's seed corpus and fuzzes each
# for SECONDS (default 30). Exits non-zero when a fuzzer finds a crash; the
# input is saved under build-fuzz/fuzz/.
#
# Usage: fuzz/run.sh [SECONDS]
set -euo pipefail

seconds="${1:-30}"
root="$(cd "$(dirname "$0")/.." && pwd)"
build="$root/build-fuzz"

cmake -S "$root" -B "$build" -G Ninja \
  -DCMAKE_CXX_COMPILER=clang++-14 \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DSTELLWERK_FUZZ=ON -DSTELLWERK_SANITIZE=ON -DSTELLWERK_TESTS=OFF \
  -DCMAKE_CXX_FLAGS=-fsanitize=fuzzer-no-link >/dev/null
ninja -C "$build" -j2 fuzz_decoder fuzz_store_recovery make_seed_corpus

seeds="$build/fuzz/seeds/decoder"
corpus="$build/fuzz/corpus/decoder"
rm -rf "$seeds"
mkdir -p "$corpus"
"$build/fuzz/make_seed_corpus" "$seeds"

"$build/fuzz/fuzz_decoder" \
  -max_len=4096 \
  -max_total_time="$seconds" \
  -dict="$root/fuzz/mqtt.dict" \
  -artifact_prefix="$build/fuzz/" \
  -print_final_stats=1 \
  "$corpus" "$seeds"

store_corpus="$build/fuzz/corpus/store"
mkdir -p "$store_corpus"
"$build/fuzz/fuzz_store_recovery" \
  -max_len=4096 \
  -max_total_time="$seconds" \
  -artifact_prefix="$build/fuzz/" \
  -print_final_stats=1 \
  "$store_corpus"

#!/usr/bin/env bash
# Builds the libFuzzer targets with clang-14, ASan and UBSan in build-fuzz,
# writes the decoder's seed corpus and fuzzes each target for SECONDS
# (default 30): the MQTT decoder, store recovery, the WebSocket transport, and
# the password and ACL file parsers.
# Exits non-zero when a fuzzer finds a crash; the input is saved under
# build-fuzz/fuzz/.
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
ninja -C "$build" -j2 fuzz_decoder fuzz_store_recovery fuzz_websocket fuzz_auth_files make_seed_corpus

seeds="$build/fuzz/seeds/decoder"
rm -rf "$seeds"
"$build/fuzz/make_seed_corpus" "$seeds"

# fuzz TARGET [SEED_DIR]: new inputs go to the target's own corpus, which
# libFuzzer takes as the first directory.
fuzz() {
  local target="$1"
  local corpus="$build/fuzz/corpus/$target"
  mkdir -p "$corpus"
  local options=(-max_len=4096 -max_total_time="$seconds" -artifact_prefix="$build/fuzz/" -print_final_stats=1)
  [[ "$target" == fuzz_decoder ]] && options+=(-dict="$root/fuzz/mqtt.dict")
  "$build/fuzz/$target" "${options[@]}" "$corpus" "${@:2}"
}

fuzz fuzz_decoder "$seeds"
fuzz fuzz_store_recovery
fuzz fuzz_websocket
fuzz fuzz_auth_files

// Included once by each fuzz target. The code under test logs what it
// rejects, and a fuzzing run feeds it millions of rejected inputs: their lines
// go to /dev/null instead of the CI log, which they grew to 160 MB. They are
// still formatted, so that code is fuzzed too.
#pragma once

#include "base/log.h"

extern "C" int LLVMFuzzerInitialize(int* /*argc*/, char*** /*argv*/) {
  stellwerk::log::set_destination("/dev/null");
  return 0;
}

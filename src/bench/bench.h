// `stellwerk bench`: a load generator for any MQTT broker (what emqtt-bench
// is for EMQX). Scenarios, phases and the delivery check are described in
// runner.h; docs/performance.md shows how the project uses it.
#pragma once

#include <string>

#include "base/result.h"
#include "bench/options.h"
#include "bench/summary.h"

namespace stellwerk::bench {

// Runs one benchmark. SIGINT and SIGTERM end it early (the summary then
// covers what was measured). Fails when the run could not be set up:
// options, address, descriptors, or connections in a traffic scenario.
Result<Summary, std::string> run_benchmark(const BenchOptions& options);

}  // namespace stellwerk::bench

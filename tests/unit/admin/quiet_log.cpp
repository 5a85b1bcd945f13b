// Admin tests start and stop servers and brokers; their notices would drown
// the test output.
#include "base/log.h"

namespace {
const bool quiet = [] {
  stellwerk::log::set_min_level(stellwerk::log::Level::warning);
  return true;
}();
}  // namespace

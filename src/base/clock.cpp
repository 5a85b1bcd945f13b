#include "base/clock.h"

#include <ctime>

namespace stellwerk {

int64_t wall_clock_seconds() { return static_cast<int64_t>(std::time(nullptr)); }

}  // namespace stellwerk

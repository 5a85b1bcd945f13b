// The broker's command line: mosquitto's flags (-c, -p, -v) plus --test-config.
#pragma once

namespace stellwerk::apps {

int run_broker(int argc, char** argv);

}  // namespace stellwerk::apps

// stellwerk: the broker when run without a subcommand, and the tools people
// expect beside a broker (`stellwerk pub`, `stellwerk sub`).
#include <cstdio>
#include <cstring>
#include <string_view>

#include "broker_main.h"
#include "commands_bench.h"
#include "commands_ctl.h"
#include "commands_passwd.h"
#include "commands_tools.h"

namespace {

void print_usage() {
  std::fputs(
      "Usage: stellwerk [-c config_file] [-p port] [-v] [--test-config]\n"
      "       stellwerk pub ...   publish (flags as mosquitto_pub)\n"
      "       stellwerk sub ...   subscribe (flags as mosquitto_sub)\n"
      "       stellwerk passwd ...   manage a password file (flags as mosquitto_passwd)\n"
      "       stellwerk bench ...    load generator (scenarios: fan-in fan-out pairs slow latency connections)\n"
      "       stellwerk ctl ...      manage a running broker: retained messages, backup (admin_socket)\n"
      "Run `stellwerk pub --help` or `stellwerk sub --help` for their flags.\n",
      stdout);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc > 1) {
    const std::string_view command = argv[1];
    if (command == "pub") return run_pub_command(argc - 1, argv + 1);
    if (command == "sub") return run_sub_command(argc - 1, argv + 1);
    if (command == "passwd") return run_passwd_command(argc - 1, argv + 1);
    if (command == "bench") return run_bench_command(argc - 1, argv + 1);
    if (command == "ctl") return run_ctl_command(argc - 1, argv + 1);
    if (command == "--help" || command == "-h") {
      print_usage();
      return 0;
    }
  }
  return stellwerk::apps::run_broker(argc, argv);
}

#include "broker_main.h"

#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <unistd.h>

#include <charconv>
#include <cstdio>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include "base/log.h"
#include "config/config.h"
#include "server/server.h"

namespace stellwerk::apps {
namespace {

struct BrokerArgs {
  std::string config_file;
  std::vector<uint16_t> ports;
  bool verbose = false;
  bool test_config = false;
};

std::optional<BrokerArgs> parse_args(int argc, char** argv) {
  BrokerArgs args;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    const bool has_value = i + 1 < argc;
    if ((arg == "-c" || arg == "--config-file") && has_value) {
      args.config_file = argv[++i];
    } else if ((arg == "-p" || arg == "--port") && has_value) {
      const std::string text = argv[++i];
      unsigned port = 0;
      auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), port);
      if (ec != std::errc() || end != text.data() + text.size() || port == 0 || port > 65535) {
        std::fprintf(stderr, "Error: invalid port '%s'.\n", text.c_str());
        return std::nullopt;
      }
      args.ports.push_back(static_cast<uint16_t>(port));
    } else if (arg == "-v" || arg == "--verbose") {
      args.verbose = true;
    } else if (arg == "--test-config") {
      args.test_config = true;
    } else {
      std::fprintf(stderr, "Error: unknown option '%s'. Usage: stellwerk [-c file] [-p port] [-v] [--test-config]\n",
                   arg.c_str());
      return std::nullopt;
    }
  }
  return args;
}

Result<config::Config, std::string> load_config(const BrokerArgs& args) {
  config::Config config;
  if (!args.config_file.empty()) {
    auto loaded = config::load_file(args.config_file);
    if (!loaded) return fail(loaded.error().to_string());
    config = std::move(loaded).value();
  }
  for (uint16_t port : args.ports) config::apply_port_override(config, port);
  return config;
}

void configure_logging(const config::Config& config, bool verbose) {
  for (const std::string& dest : config.log_dest) {
    if (dest.rfind("file ", 0) == 0) log::set_destination(dest.substr(5));
  }
  bool debug = verbose;
  for (config::LogType type : config.log_types) {
    if (type == config::LogType::debug || type == config::LogType::all) debug = true;
  }
  log::set_min_level(debug ? log::Level::debug : log::Level::info);
}

// Written beside and renamed into place, so that whoever reads it (an init
// system, a test) finds no file or the whole pid, never an empty file.
bool write_pid_file(const std::string& path) {
  if (path.empty()) return true;
  const std::string written = path + ".new";
  {
    std::ofstream out(written, std::ios::trunc);
    if (!out) return false;
    out << getpid() << '\n';
    if (!out.flush()) return false;
  }
  return std::rename(written.c_str(), path.c_str()) == 0;
}

// Like mosquitto: when started as root with `user` set, run as that user.
bool drop_privileges(const std::string& user) {
  if (user.empty() || geteuid() != 0 || user == "root") return true;
  const passwd* entry = getpwnam(user.c_str());
  if (!entry) {
    log::error("Invalid user '{}'.", user);
    return false;
  }
  if (initgroups(user.c_str(), entry->pw_gid) != 0 || setgid(entry->pw_gid) != 0 || setuid(entry->pw_uid) != 0) {
    log::error("Unable to drop privileges to '{}'.", user);
    return false;
  }
  return true;
}

void block_signals_for_workers() {
  // Worker threads inherit this mask; the main thread takes these signals
  // through a signalfd.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  signal(SIGPIPE, SIG_IGN);
}

}  // namespace

int run_broker(int argc, char** argv) {
  auto args = parse_args(argc, argv);
  if (!args) return 1;
  auto config = load_config(*args);
  if (!config) {
    std::fprintf(stderr, "Error: %s\n", config.error().c_str());
    return 3;
  }
  if (args->test_config) {
    std::printf("Configuration OK.\n");
    return 0;
  }
  configure_logging(config.value(), args->verbose);
  block_signals_for_workers();
  server::Server server(config.value());
  server.set_config_source([args = *args] { return load_config(args); });
  if (auto started = server.start(); !started) {
    log::error("Error: {}", started.error());
    return 1;
  }
  if (!drop_privileges(config->user)) return 1;
  if (!write_pid_file(config->pid_file)) log::warning("Unable to write pid file {}.", config->pid_file);
  server.run();
  if (!config->pid_file.empty()) ::unlink(config->pid_file.c_str());
  return 0;
}

}  // namespace stellwerk::apps

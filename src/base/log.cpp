#include "base/log.h"

#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <memory>

namespace stellwerk::log {
namespace {

std::atomic<Level> min_level{Level::notice};

std::shared_ptr<spdlog::logger>& logger() {
  static std::shared_ptr<spdlog::logger> instance = spdlog::stderr_logger_mt("stellwerk");
  return instance;
}

spdlog::level::level_enum to_spdlog(Level level) {
  switch (level) {
    case Level::debug: return spdlog::level::debug;
    case Level::info: return spdlog::level::info;
    case Level::notice: return spdlog::level::info;
    case Level::warning: return spdlog::level::warn;
    case Level::error: return spdlog::level::err;
  }
  return spdlog::level::info;
}

}  // namespace

bool enabled(Level level) { return level >= min_level.load(std::memory_order_relaxed); }

void set_min_level(Level level) {
  min_level.store(level);
  logger()->set_level(spdlog::level::debug);
}

void set_destination(const std::string& path) {
  if (path.empty()) return;
  auto file_logger = spdlog::basic_logger_mt("stellwerk-file", path);
  file_logger->set_level(spdlog::level::debug);
  file_logger->flush_on(spdlog::level::debug);
  logger() = file_logger;
}

void write(Level level, std::string_view message) {
  logger()->log(to_spdlog(level), "{}", message);
}

}  // namespace stellwerk::log

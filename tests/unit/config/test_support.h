// Helpers shared by the config tests: parse text that must load, or must fail.
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <string_view>

#include "config/config.h"

namespace stellwerk::config::testing {

// Parses `text` as "test.conf" with include_dir reading from `files`.
inline Config parse_ok(std::string_view text, const ConfigFiles& files = MemoryFiles()) {
  auto result = parse_text(text, "test.conf", files);
  EXPECT_TRUE(result.ok()) << (result.ok() ? "" : result.error().to_string());
  return result.ok() ? result.value() : Config{};
}

inline ConfigError parse_error(std::string_view text, const ConfigFiles& files = MemoryFiles()) {
  auto result = parse_text(text, "test.conf", files);
  EXPECT_FALSE(result.ok()) << "expected an error for:\n" << text;
  return result.ok() ? ConfigError{} : result.error();
}

}  // namespace stellwerk::config::testing

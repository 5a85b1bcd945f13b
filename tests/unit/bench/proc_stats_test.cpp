// /proc parsing: a command name with spaces and parentheses, VmRSS, and this
// process read live.
#include "bench/proc_stats.h"

#include <gtest/gtest.h>

namespace stellwerk::bench {
namespace {

TEST(ProcStats, CpuSecondsCountFromTheLastParenthesis) {
  // pid (comm) state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime ...
  const char* stat = "4242 (my (odd) broker) S 1 4242 4242 0 -1 4194560 100 0 0 0 250 125 0 0 20 0 3 0";
  const auto seconds = parse_cpu_seconds(stat, 100);
  ASSERT_TRUE(seconds.has_value());
  EXPECT_DOUBLE_EQ(*seconds, 3.75);
}

TEST(ProcStats, MalformedStatIsRejected) {
  EXPECT_FALSE(parse_cpu_seconds("4242 broker S 1", 100).has_value());
  EXPECT_FALSE(parse_cpu_seconds("4242 (broker) S 1 2", 100).has_value());
}

TEST(ProcStats, RssComesFromVmRss) {
  const char* status = "Name:\tstellwerk\nVmPeak:\t  999 kB\nVmRSS:\t   12345 kB\nRssAnon:\t 1 kB\n";
  EXPECT_EQ(parse_rss_kib(status), 12345u);
  EXPECT_FALSE(parse_rss_kib("Name:\tkthread\n").has_value());
}

TEST(ProcStats, ThisProcessCanBeRead) {
  EXPECT_TRUE(process_cpu_seconds(0).has_value());
  const auto rss = process_rss_kib(0);
  ASSERT_TRUE(rss.has_value());
  EXPECT_GT(*rss, 0u);
  EXPECT_TRUE(process_runqueue_wait_seconds(0).has_value());
  EXPECT_FALSE(process_rss_kib(-5).has_value());
  EXPECT_FALSE(process_runqueue_wait_seconds(-5).has_value());
}

}  // namespace
}  // namespace stellwerk::bench

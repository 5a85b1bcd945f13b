// A thread's time on a core and waiting for one, from schedstat.
#include "base/thread_load.h"

#include <gtest/gtest.h>

namespace stellwerk::base {
namespace {

TEST(ThreadLoadTest, SchedstatGivesCpuThenWait) {
  const auto load = parse_schedstat("169542 5002370 2\n");
  ASSERT_TRUE(load.has_value());
  EXPECT_EQ(load->cpu_ns, 169542u);
  EXPECT_EQ(load->wait_ns, 5002370u);
  EXPECT_FALSE(parse_schedstat("169542").has_value());
  EXPECT_FALSE(parse_schedstat("").has_value());
  EXPECT_FALSE(parse_schedstat("x 1 2").has_value());
}

TEST(ThreadLoadTest, TheCallingThreadCanBeRead) {
  volatile uint64_t spin = 0;
  for (int i = 0; i < 1000000; ++i) spin = spin + 1;
  const auto load = thread_load(this_thread_tid());
  ASSERT_TRUE(load.has_value());
  EXPECT_GT(load->cpu_ns, 0u);
  EXPECT_FALSE(thread_load(-1).has_value());
}

}  // namespace
}  // namespace stellwerk::base

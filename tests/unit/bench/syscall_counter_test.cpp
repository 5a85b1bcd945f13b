// Reading what perf and strace write. The samples are their real output
// formats (perf 6.1 with -x , -I, strace 6.1 -c).
#include "bench/syscall_counter.h"

#include <gtest/gtest.h>

namespace stellwerk::bench {
namespace {

TEST(SyscallCounter, PerfIntervalsGiveARate) {
  const char* csv =
      "# started on Tue Dec  1 15:11:25 2026\n"
      "\n"
      "     0.100289266,1000,,raw_syscalls:sys_enter,319835,100.00,,\n"
      "     0.200661775,2000,,raw_syscalls:sys_enter,4426714,100.00,,\n"
      "     0.250000000,<not counted>,,raw_syscalls:sys_enter,0,100.00,,\n";
  const auto rate = perf_interval_rate(csv);
  ASSERT_TRUE(rate.has_value());
  EXPECT_DOUBLE_EQ(*rate, 3000 / 0.25);
}

TEST(SyscallCounter, PerfWithoutCountsGivesNothing) {
  EXPECT_FALSE(perf_interval_rate("# started on Tue Dec  1\n").has_value());
  EXPECT_FALSE(perf_interval_rate("     0.1,<not counted>,,raw_syscalls:sys_enter,0,100.00,,\n").has_value());
}

TEST(SyscallCounter, StraceTotalCallsWithAndWithoutErrors) {
  const char* with_errors =
      "% time     seconds  usecs/call     calls    errors syscall\n"
      "------ ----------- ----------- --------- --------- ----------------\n"
      " 60.00    0.001302          13       100           epoll_wait\n"
      " 40.00    0.000868          19        44        19 read\n"
      "------ ----------- ----------- --------- --------- ----------------\n"
      "100.00    0.002170          15       144        19 total\n";
  EXPECT_EQ(strace_total_calls(with_errors), 144u);
  const char* without_errors =
      "% time     seconds  usecs/call     calls    errors syscall\n"
      "------ ----------- ----------- --------- --------- ----------------\n"
      "100.00    0.000100           1    123456           total\n";
  EXPECT_EQ(strace_total_calls(without_errors), 123456u);
  EXPECT_FALSE(strace_total_calls("strace: attach: ptrace(PTRACE_SEIZE, 1): Operation not permitted\n"));
}

TEST(SyscallCounter, OffStartsNothing) {
  std::string why;
  EXPECT_EQ(SyscallCounter::start(1, SyscallCounting::off, why), nullptr);
  EXPECT_EQ(why, "not requested");
}

}  // namespace
}  // namespace stellwerk::bench

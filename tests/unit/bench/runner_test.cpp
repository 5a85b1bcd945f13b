// The whole generator against the fake broker: every scenario shape and QoS
// completes with a clean check, and each kind of fault the broker is made to
// commit (loss, duplicates, reordering) shows in the summary.
#include <gtest/gtest.h>
#include <unistd.h>

#include "bench/bench.h"
#include "fake_broker.h"

namespace stellwerk::bench {
namespace {

using testing::FakeBroker;
using testing::Faults;

BenchOptions quick(const FakeBroker& broker, Scenario scenario, uint32_t clients) {
  BenchOptions options;
  options.scenario = scenario;
  options.port = broker.port();
  options.clients = clients;
  options.warmup = milliseconds(100);
  options.duration = milliseconds(300);
  options.drain_timeout = seconds(3);
  options.connect_timeout = seconds(5);
  options.window = 20;
  options.progress = false;
  return options;
}

Summary run_ok(const BenchOptions& options) {
  auto summary = run_benchmark(options);
  EXPECT_TRUE(summary.ok()) << (summary.ok() ? "" : summary.error());
  return summary.ok() ? summary.value() : Summary{};
}

void expect_clean(const Summary& summary) {
  EXPECT_TRUE(summary.passed()) << format_summary(summary);
  EXPECT_GT(summary.measured_deliveries, 0u);
  EXPECT_EQ(summary.check.delivered, summary.check.expected);
  EXPECT_GT(summary.latency.count, 0u);
}

class RunnerQos : public ::testing::TestWithParam<std::tuple<mqtt::Version, mqtt::QoS>> {};

TEST_P(RunnerQos, PairsDeliverEverythingOnceAndInOrder) {
  FakeBroker broker;
  BenchOptions options = quick(broker, Scenario::pairs, 3);
  std::tie(options.version, options.qos) = GetParam();
  const Summary summary = run_ok(options);
  expect_clean(summary);
  EXPECT_EQ(summary.connections_ok, 6u);
  EXPECT_EQ(summary.check.expected, summary.check.published) << "one receiver per message";
}

INSTANTIATE_TEST_SUITE_P(VersionsAndQos, RunnerQos,
                         ::testing::Combine(::testing::Values(mqtt::Version::v311, mqtt::Version::v5),
                                            ::testing::Values(mqtt::QoS::at_most_once,
                                                              mqtt::QoS::at_least_once,
                                                              mqtt::QoS::exactly_once)));

TEST(Runner, FanInToOneWildcardSubscriber) {
  FakeBroker broker;
  const Summary summary = run_ok(quick(broker, Scenario::fan_in, 4));
  expect_clean(summary);
  EXPECT_EQ(summary.publishers, 4u);
  EXPECT_EQ(summary.subscribers, 1u);
}

TEST(Runner, FanOutOwesEveryMessageToEverySubscriber) {
  FakeBroker broker;
  BenchOptions options = quick(broker, Scenario::fan_out, 5);
  options.qos = mqtt::QoS::at_least_once;
  const Summary summary = run_ok(options);
  expect_clean(summary);
  EXPECT_EQ(summary.check.expected, 5 * summary.check.published);
}

TEST(Runner, FixedRateIsOfferedAndStampedWithTheDueTime) {
  FakeBroker broker;
  BenchOptions options = quick(broker, Scenario::latency, 2);
  options.rate = 200;
  options.duration = milliseconds(1000);
  const Summary summary = run_ok(options);
  expect_clean(summary);
  EXPECT_NEAR(summary.published_per_second, 400, 40);
}

TEST(Runner, LostMessagesAreReportedAndFailTheCheck) {
  FakeBroker broker(Faults{.drop_every = 50});
  BenchOptions options = quick(broker, Scenario::pairs, 2);
  options.drain_timeout = milliseconds(300);
  const Summary summary = run_ok(options);
  EXPECT_FALSE(summary.passed());
  EXPECT_GT(summary.check.lost, 0u);
  EXPECT_FALSE(summary.check.drained);
}

TEST(Runner, DuplicatesAreReported) {
  FakeBroker broker(Faults{.duplicate_every = 40});
  const Summary summary = run_ok(quick(broker, Scenario::pairs, 2));
  EXPECT_FALSE(summary.passed());
  EXPECT_GT(summary.check.duplicates, 0u);
  EXPECT_EQ(summary.check.lost, 0u);
}

TEST(Runner, ReorderingIsReported) {
  FakeBroker broker(Faults{.swap_every = 40});
  const Summary summary = run_ok(quick(broker, Scenario::fan_in, 2));
  EXPECT_FALSE(summary.passed());
  EXPECT_GT(summary.check.out_of_order, 0u);
}

TEST(Runner, AnUndecodablePublishFailsItsLinkWithTheReason) {
  FakeBroker broker(Faults{.garble_every = 30});
  BenchOptions options = quick(broker, Scenario::pairs, 2);
  options.drain_timeout = milliseconds(300);
  const Summary summary = run_ok(options);
  EXPECT_FALSE(summary.passed());
  EXPECT_GT(summary.connections_dropped, 0u);
  EXPECT_NE(summary.first_failure.find("undecodable PUBLISH"), std::string::npos) << summary.first_failure;
}

TEST(Runner, IdleConnectionsAreHeldAndTheBrokerProcessIsSampled) {
  FakeBroker broker;
  BenchOptions options = quick(broker, Scenario::connections, 50);
  options.subscribe_idle = true;
  options.broker_pid = static_cast<int>(::getpid());  // the fake broker runs in this process
  const Summary summary = run_ok(options);
  EXPECT_TRUE(summary.passed()) << format_summary(summary);
  EXPECT_EQ(summary.connections_ok, 50u);
  EXPECT_GT(summary.connections_per_second, 0);
  EXPECT_TRUE(summary.broker.cpu_seconds.has_value());
  EXPECT_TRUE(summary.broker.rss_kib.has_value());
  EXPECT_TRUE(summary.broker_rss_per_connection_bytes.has_value());
}

TEST(Runner, BrokerCpuGivesDeliveriesPerCpuSecond) {
  FakeBroker broker;
  BenchOptions options = quick(broker, Scenario::pairs, 2);
  options.broker_pid = static_cast<int>(::getpid());
  const Summary summary = run_ok(options);
  expect_clean(summary);
  ASSERT_TRUE(summary.broker.cpu_seconds.has_value());
  EXPECT_TRUE(summary.deliveries_per_broker_cpu_second.has_value() || *summary.broker.cpu_seconds == 0);
}

TEST(Runner, RefusedConnectionsFailTheRunWithTheReason) {
  uint16_t unused_port = 0;
  {
    FakeBroker broker;
    unused_port = broker.port();
  }
  BenchOptions options;
  options.port = unused_port;
  options.clients = 2;
  options.progress = false;
  auto summary = run_benchmark(options);
  ASSERT_FALSE(summary.ok());
  EXPECT_NE(summary.error().find("Connection refused"), std::string::npos) << summary.error();
}

}  // namespace
}  // namespace stellwerk::bench

// Scenario names, option checks, and the plans: every subscriber's filter
// must match exactly the topics of the publishers the plan says it hears
// from, checked with the broker's own subscription trie.
#include "bench/options.h"

#include <gtest/gtest.h>

#include <set>

#include "mqtt/validate.h"
#include "topics/subscription_tree.h"

namespace stellwerk::bench {
namespace {

constexpr Scenario kAll[] = {Scenario::fan_in, Scenario::fan_out,     Scenario::pairs,
                             Scenario::slow,   Scenario::connections, Scenario::latency};

TEST(Options, ScenarioNamesRoundTrip) {
  for (Scenario scenario : kAll) EXPECT_EQ(parse_scenario(scenario_name(scenario)), scenario);
  EXPECT_FALSE(parse_scenario("fanin").has_value());
}

TEST(Options, DefaultSizesAreTheStandardScenarios) {
  BenchOptions options;
  options.scenario = Scenario::fan_in;
  EXPECT_EQ(make_plan(options).publishers, 8u);
  options.scenario = Scenario::fan_out;
  EXPECT_EQ(make_plan(options).subscribers, 100u);
  options.scenario = Scenario::slow;
  const Plan slow = make_plan(options);
  EXPECT_EQ(slow.publishers, 5000u);
  EXPECT_DOUBLE_EQ(slow.rate, 4.0);
  options.scenario = Scenario::latency;
  const Plan latency = make_plan(options);
  EXPECT_EQ(latency.publishers * latency.rate, 10'000) << "10k msg/s offered in all";
  options.rate = 0;
  EXPECT_DOUBLE_EQ(make_plan(options).rate, 0.0) << "an explicit rate wins";
}

// Subscribes every subscriber's filter and matches every publisher's topic.
void expect_routes_match_plan(const Plan& plan) {
  topics::SubscriptionTree<int> tree;
  for (uint32_t s = 0; s < plan.subscribers; ++s) {
    ASSERT_TRUE(mqtt::is_valid_topic_filter(plan.subscriber_filter(s)));
    (void)tree.subscribe(plan.subscriber_filter(s), s, 0);
  }
  for (uint32_t p = 0; p < plan.publishers; ++p) {
    ASSERT_TRUE(mqtt::is_valid_topic_name(plan.publisher_topic(p)));
    std::set<uint32_t> matched;
    tree.match(plan.publisher_topic(p), [&](topics::SubscriberId id, const int&, std::string_view) {
      matched.insert(static_cast<uint32_t>(id));
    });
    std::set<uint32_t> expected;
    for (uint32_t s = 0; s < plan.subscribers; ++s) {
      const Plan::Range range = plan.sources_of(s);
      if (p >= range.first && p < range.first + range.count) expected.insert(s);
    }
    EXPECT_EQ(matched, expected) << "publisher " << p;
    EXPECT_EQ(matched.size(), plan.receivers_per_message());
  }
}

TEST(Options, EveryScenarioRoutesAsItsPlanSays) {
  for (Scenario scenario : kAll) {
    BenchOptions options;
    options.scenario = scenario;
    options.clients = 7;
    options.topic_prefix = "t/42";
    SCOPED_TRACE(scenario_name(scenario));
    expect_routes_match_plan(make_plan(options));
  }
}

TEST(Options, ConnectionsScenarioHasOnlyIdleClients) {
  BenchOptions options;
  options.scenario = Scenario::connections;
  options.clients = 19'000;
  options.topic_prefix = "t";
  const Plan plan = make_plan(options);
  EXPECT_EQ(plan.idle, 19'000u);
  EXPECT_EQ(plan.total_clients(), 19'000u);
  EXPECT_EQ(plan.idle_filter(5), "t/idle/5");
}

TEST(Options, ChecksNameTheOption) {
  BenchOptions options;
  EXPECT_TRUE(check_options(options).ok());
  options.payload_size = 10;
  EXPECT_NE(check_options(options).error().find("--payload"), std::string::npos);
  options = BenchOptions{};
  options.window = 0;
  EXPECT_NE(check_options(options).error().find("--window"), std::string::npos);
  options = BenchOptions{};
  options.source_addresses = {"127.0.0.2", "nonsense"};
  EXPECT_NE(check_options(options).error().find("nonsense"), std::string::npos);
  options = BenchOptions{};
  options.count_syscalls = SyscallCounting::automatic;
  EXPECT_NE(check_options(options).error().find("--broker-pid"), std::string::npos);
  options = BenchOptions{};
  options.subscribe_idle = true;
  EXPECT_FALSE(check_options(options).ok()) << "--subscribe is for the connections scenario";
}

TEST(Options, TlsOptionsAreChecked) {
  BenchOptions options;
  EXPECT_FALSE(options.tls());
  options.tls_version = "1.3";
  EXPECT_FALSE(check_options(options));  // a version without TLS
  options.tls_insecure = true;
  EXPECT_TRUE(options.tls());
  EXPECT_TRUE(check_options(options));
  options.tls_cafile = "ca.pem";
  EXPECT_FALSE(check_options(options));  // both ways of trusting at once
  options.tls_insecure = false;
  options.tls_version = "1.0";
  EXPECT_FALSE(check_options(options));
}

}  // namespace
}  // namespace stellwerk::bench

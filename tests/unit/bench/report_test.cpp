// The summary: what passes, and what the text and the JSON show.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "bench/summary.h"

namespace stellwerk::bench {
namespace {

Summary clean_run() {
  Summary summary;
  summary.scenario = "pairs";
  summary.mqtt_version = "3.1.1";
  summary.publishers = summary.subscribers = 100;
  summary.connections_ok = 200;
  summary.measured_seconds = 10;
  summary.measured_deliveries = 12'345'678;
  summary.deliveries_per_second = 1'234'567.8;
  summary.check.expected = summary.check.delivered = 20'000'000;
  return summary;
}

TEST(Report, CleanRunPassesAndAnyFaultFails) {
  EXPECT_TRUE(clean_run().passed());
  const auto fails = [](auto spoil) {
    Summary summary = clean_run();
    spoil(summary);
    return !summary.passed();
  };
  EXPECT_TRUE(fails([](Summary& s) { s.check.lost = 1; }));
  EXPECT_TRUE(fails([](Summary& s) { s.check.duplicates = 1; }));
  EXPECT_TRUE(fails([](Summary& s) { s.check.out_of_order = 1; }));
  EXPECT_TRUE(fails([](Summary& s) { s.check.foreign = 1; }));
  EXPECT_TRUE(fails([](Summary& s) { s.check.protocol_errors = 1; }));
  EXPECT_TRUE(fails([](Summary& s) { s.check.drained = false; }));
  EXPECT_TRUE(fails([](Summary& s) { s.connections_failed = 1; }));
  EXPECT_TRUE(fails([](Summary& s) { s.connections_dropped = 1; }));
}

TEST(Report, TextGroupsDigitsAndLeavesOutWhatWasNotMeasured) {
  const std::string text = format_summary(clean_run());
  EXPECT_NE(text.find("1,234,568 deliveries/s"), std::string::npos) << text;
  EXPECT_NE(text.find("PASSED"), std::string::npos);
  EXPECT_EQ(text.find("broker "), std::string::npos) << "no --broker-pid, no broker line";
}

TEST(Report, JsonHasEveryFigureAndNullForUnmeasuredOnes) {
  Summary summary = clean_run();
  summary.broker.cpu_seconds = 2.5;
  summary.deliveries_per_broker_cpu_second = 4'938'271.2;
  summary.broker.syscall_source = "perf";
  const auto json = nlohmann::json::parse(summary_json(summary));
  EXPECT_EQ(json["scenario"], "pairs");
  EXPECT_EQ(json["measured"]["deliveries"], 12'345'678);
  EXPECT_DOUBLE_EQ(json["broker"]["cpu_seconds"].get<double>(), 2.5);
  EXPECT_TRUE(json["broker"]["rss_kib"].is_null());
  EXPECT_TRUE(json["broker"]["syscalls_per_delivery"].is_null());
  EXPECT_EQ(json["check"]["lost"], 0);
  EXPECT_EQ(json["passed"], true);
}

}  // namespace
}  // namespace stellwerk::bench

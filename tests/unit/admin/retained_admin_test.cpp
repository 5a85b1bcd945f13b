// The broker's retained-state administration (src/broker/retained_admin.cpp)
// and the ordered, cursor-based walk of the retained tree under it: topic
// order, filters with + and #, '$' topics, paging, expiry, and that deletes
// and imports reach subscribers' next SUBSCRIBE and the store.
#include <gtest/gtest.h>

#include <algorithm>
#include <random>

#include "../broker/broker_harness.h"
#include "store/memory_env.h"
#include "store/store.h"

namespace stellwerk::broker::testing {
namespace {

using mqtt::QoS;
using mqtt::Version;
using Topics = std::vector<std::string>;

class RetainedAdminTest : public ::testing::Test {
 protected:
  void retain(const std::string& topic, const std::string& payload = "v") {
    mqtt::Publish message = publish(topic, payload, QoS::at_least_once, 0, true);
    std::vector<mqtt::Publish> one{message};
    h.broker.set_retained(std::move(one), h.clock.now());
  }
  Topics page(std::optional<std::string> filter, std::optional<std::string> after = std::nullopt,
              size_t limit = 1000) {
    Topics topics;
    for (const mqtt::Publish& p : h.broker.retained_page(filter, after, limit, false, h.clock.now())) {
      topics.push_back(p.topic);
    }
    return topics;
  }
  // Every topic, fetched `limit` at a time with the last one as the cursor.
  Topics paged(std::optional<std::string> filter, size_t limit) {
    Topics all;
    std::optional<std::string> after;
    for (;;) {
      Topics chunk = page(filter, after, limit);
      all.insert(all.end(), chunk.begin(), chunk.end());
      if (chunk.size() < limit) return all;
      after = chunk.back();
    }
  }
  std::vector<mqtt::Packet> subscribe_to(ConnectionId id, const std::string& filter) {
    h.connect(id, "sub" + std::to_string(id), Version::v5);
    return h.send(id, subscribe(1, filter));
  }

  BrokerHarness h;
};

TEST_F(RetainedAdminTest, TopicsComeInLevelOrder) {
  for (const char* topic : {"b", "a-b", "a/b/c", "a", "a/b", "a//x", "$foo/x"}) retain(topic);
  EXPECT_EQ(page(std::nullopt), (Topics{"$foo/x", "a", "a//x", "a/b", "a/b/c", "a-b", "b"}));
}

TEST_F(RetainedAdminTest, WildcardFiltersMatchAsSubscriptionsDo_MQTT_4_7_1_2) {
  for (const char* topic : {"a", "a/b", "a/b/c", "x/b", "a-b", "$foo/b"}) retain(topic);
  EXPECT_EQ(page("a/#"), (Topics{"a", "a/b", "a/b/c"}));  // "a/#" includes "a" [MQTT-4.7.1-2]
  EXPECT_EQ(page("+/b"), (Topics{"a/b", "x/b"}));
  EXPECT_EQ(page("+/+/c"), (Topics{"a/b/c"}));
  EXPECT_EQ(page("a/b"), (Topics{"a/b"}));
}

TEST_F(RetainedAdminTest, DollarTopicsOnlyWhenNamedOrAllState_MQTT_4_7_2_1) {
  retain("$foo/b");
  retain("a");
  EXPECT_EQ(page("#"), (Topics{"a"}));
  EXPECT_EQ(page("+/b"), Topics{});
  EXPECT_EQ(page("$foo/#"), (Topics{"$foo/b"}));
  EXPECT_EQ(page(std::nullopt), (Topics{"$foo/b", "a"}));
}

TEST_F(RetainedAdminTest, AllStateLeavesOutSys) {
  mqtt::Publish sys = publish("$SYS/broker/x", "1", QoS::at_most_once, 0, true);
  h.broker.set_retained({sys}, h.clock.now());
  retain("a");
  EXPECT_EQ(page(std::nullopt), (Topics{"a"}));
  EXPECT_EQ(page("$SYS/#"), (Topics{"$SYS/broker/x"}));
}

TEST_F(RetainedAdminTest, CursorResumesAfterTopicEvenWhenItWasDeleted) {
  for (const char* topic : {"a", "a/b", "a/c", "b"}) retain(topic);
  EXPECT_EQ(page("#", "a/b"), (Topics{"a/c", "b"}));
  EXPECT_EQ(page("#", "a"), (Topics{"a/b", "a/c", "b"}));
  EXPECT_EQ(h.broker.clear_retained({"a/b"}), 1u);
  EXPECT_EQ(page("#", "a/b"), (Topics{"a/c", "b"}));
  EXPECT_EQ(page("#", "a/bb"), (Topics{"a/c", "b"}));
  EXPECT_EQ(page("#", "zzz"), Topics{});
}

// Topic order as a plain comparison of level lists: the oracle.
bool level_less(const std::string& a, const std::string& b) {
  auto levels = [](const std::string& topic) {
    std::vector<std::string> out(1);
    for (char c : topic) {
      if (c == '/') {
        out.emplace_back();
      } else {
        out.back().push_back(c);
      }
    }
    return out;
  };
  return levels(a) < levels(b);
}

TEST_F(RetainedAdminTest, PagingAnyChunkSizeMatchesSortedOracle) {
  std::mt19937 random(7);
  const char* levels[] = {"a", "b", "", "a-b", "z", "$x"};
  std::vector<std::string> topics;
  for (int i = 0; i < 300; ++i) {
    std::string topic;
    const int depth = 1 + static_cast<int>(random() % 4);
    for (int d = 0; d < depth; ++d) {
      if (d > 0) topic += '/';
      topic += levels[random() % 6];
      if (d == 0 && topic.empty()) topic = "r";
    }
    retain(topic);
    topics.push_back(topic);
  }
  std::sort(topics.begin(), topics.end(), level_less);
  topics.erase(std::unique(topics.begin(), topics.end()), topics.end());
  for (size_t limit : {1u, 2u, 7u, 1000u}) EXPECT_EQ(paged(std::nullopt, limit), topics) << limit;
  Topics under_a;
  std::copy_if(topics.begin(), topics.end(), std::back_inserter(under_a),
               [](const std::string& t) { return t == "a" || t.starts_with("a/"); });
  EXPECT_EQ(paged("a/#", 3), under_a);
}

TEST_F(RetainedAdminTest, PageCarriesPayloadPropertiesAndExpiryLeft) {
  mqtt::Publish message = publish("t", "body", QoS::exactly_once, 0, true);
  message.properties.message_expiry_interval = 100;
  message.properties.content_type = "text/plain";
  message.properties.user_properties.emplace_back("k", "v");
  h.broker.set_retained({message}, h.clock.now());
  h.clock.advance(std::chrono::seconds(30));
  auto page = h.broker.retained_page("t", std::nullopt, 1, true, h.clock.now());
  ASSERT_EQ(page.size(), 1u);
  EXPECT_EQ(page[0].payload, "body");
  EXPECT_EQ(page[0].qos, QoS::exactly_once);
  EXPECT_TRUE(page[0].retain);
  EXPECT_EQ(page[0].properties.message_expiry_interval, 70u);
  EXPECT_EQ(page[0].properties.content_type, "text/plain");
  EXPECT_EQ(page[0].properties.user_properties.size(), 1u);
  auto bare = h.broker.retained_page("t", std::nullopt, 1, false, h.clock.now());
  ASSERT_EQ(bare.size(), 1u);
  EXPECT_TRUE(bare[0].payload.empty());
}

TEST_F(RetainedAdminTest, ExpiredMessagesAreNotListed_MQTT_3_3_2_5) {
  mqtt::Publish message = publish("short", "x", QoS::at_most_once, 0, true);
  message.properties.message_expiry_interval = 1;
  h.broker.set_retained({message}, h.clock.now());
  retain("long");
  h.clock.advance(std::chrono::seconds(2));
  EXPECT_EQ(page(std::nullopt), (Topics{"long"}));
}

TEST_F(RetainedAdminTest, ImportedMessageReachesNextSubscriberWithRetainFlag_MQTT_3_3_1_8) {
  retain("state/a", "on");
  auto reply = subscribe_to(1, "state/#");
  ASSERT_EQ(reply.size(), 2u);
  EXPECT_EQ(as<mqtt::Publish>(reply[1]).payload, "on");
  EXPECT_TRUE(as<mqtt::Publish>(reply[1]).retain);
}

TEST_F(RetainedAdminTest, ImportAndDeleteAreNotDeliveredToCurrentSubscribers) {
  subscribe_to(1, "#");
  retain("t");
  EXPECT_TRUE(h.take(1).empty());
  EXPECT_EQ(h.broker.clear_retained({"t"}), 1u);
  EXPECT_TRUE(h.take(1).empty());
}

TEST_F(RetainedAdminTest, ClearCountsOnlyTopicsThatHadOne_MQTT_3_3_1_10) {
  retain("a");
  retain("b");
  EXPECT_EQ(h.broker.clear_retained({"a", "missing", "b", "a"}), 2u);
  EXPECT_EQ(h.broker.retained_count(), 0u);
  auto reply = subscribe_to(1, "#");
  EXPECT_EQ(reply.size(), 1u);  // SUBACK only
}

TEST_F(RetainedAdminTest, EmptyPayloadImportClears_MQTT_3_3_1_10) {
  retain("a");
  retain("a", "");
  EXPECT_EQ(h.broker.retained_count(), 0u);
}

// Deletes and imports are logged to the store like a client's PUBLISH.
TEST(RetainedAdminStore, ImportAndDeleteSurviveRestart) {
  store::MemoryEnv env;
  store::Options options;
  options.dir = "/store";
  std::vector<std::string> survivors;
  for (int round = 0; round < 2; ++round) {
    auto opened = store::Store::open(env, options);
    ASSERT_TRUE(opened.ok());
    auto store = std::move(opened.value().store);
    BrokerHarness h;
    h.broker.restore(opened.value().state, h.clock.now());
    h.broker.attach_store(store.get());
    if (round == 0) {
      h.broker.set_retained({publish("keep", "1", QoS::at_most_once, 0, true),
                             publish("drop", "2", QoS::at_most_once, 0, true)},
                            h.clock.now());
      EXPECT_EQ(h.broker.clear_retained({"drop"}), 1u);
      continue;
    }
    for (const auto& p : h.broker.retained_page(std::nullopt, std::nullopt, 10, true, h.clock.now())) {
      survivors.push_back(p.topic + "=" + p.payload);
    }
  }
  EXPECT_EQ(survivors, (std::vector<std::string>{"keep=1"}));
}

}  // namespace
}  // namespace stellwerk::broker::testing

// Packet id allocation and topic alias tables on their own.
#include <gtest/gtest.h>

#include "client/packet_ids.h"
#include "client/topic_alias.h"

namespace stellwerk::client {
namespace {

TEST(PacketIdsTest, HandsOutNonZeroIdsRoundRobin) {
  // v5[MQTT-2.2.1-3]: non-zero and unused.
  PacketIds ids;
  EXPECT_EQ(ids.allocate(), 1);
  EXPECT_EQ(ids.allocate(), 2);
  ids.release(1);
  EXPECT_EQ(ids.allocate(), 3);  // a freed id is not reused at once
  EXPECT_EQ(ids.count(), 2u);
}

TEST(PacketIdsTest, WrapsAroundAndSkipsTakenIds) {
  PacketIds ids;
  for (int i = 0; i < 65535; ++i) ASSERT_TRUE(ids.allocate().has_value());
  EXPECT_FALSE(ids.allocate().has_value());
  ids.release(7);
  ids.release(65535);
  EXPECT_EQ(ids.allocate(), 7);
  EXPECT_EQ(ids.allocate(), 65535);
  EXPECT_FALSE(ids.allocate().has_value());
}

TEST(PacketIdsTest, ReleaseOfAFreeIdChangesNothing) {
  PacketIds ids;
  ids.release(5);
  ids.release(0);
  EXPECT_EQ(ids.count(), 0u);
  auto id = ids.allocate();
  ids.release(*id);
  ids.release(*id);
  EXPECT_EQ(ids.count(), 0u);
}

TEST(OutgoingTopicAliasesTest, LeavesCallerAliasesAlone) {
  OutgoingTopicAliases aliases;
  aliases.reset(5);
  mqtt::Publish publish;
  publish.topic = "t";
  publish.properties.topic_alias = 4;
  aliases.apply(publish);
  EXPECT_EQ(publish.topic, "t");
  EXPECT_EQ(publish.properties.topic_alias, 4);
  EXPECT_EQ(aliases.size(), 0u);
}

TEST(IncomingTopicAliasesTest, AliasZeroIsInvalid) {
  // v5[MQTT-3.3.2-8]
  IncomingTopicAliases aliases;
  aliases.reset(10);
  mqtt::Publish publish;
  publish.topic = "t";
  publish.properties.topic_alias = 0;
  auto result = aliases.resolve(publish);
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error(), mqtt::ReasonCode::topic_alias_invalid);
}

TEST(IncomingTopicAliasesTest, EmptyTopicWithoutAliasIsAnError) {
  IncomingTopicAliases aliases;
  aliases.reset(0);
  mqtt::Publish publish;
  EXPECT_FALSE(aliases.resolve(publish));
}

TEST(IncomingTopicAliasesTest, AliasCanBeRebound) {
  IncomingTopicAliases aliases;
  aliases.reset(1);
  mqtt::Publish publish;
  publish.properties.topic_alias = 1;
  publish.topic = "first";
  ASSERT_TRUE(aliases.resolve(publish));
  publish.topic = "second";
  ASSERT_TRUE(aliases.resolve(publish));
  publish.topic.clear();
  ASSERT_TRUE(aliases.resolve(publish));
  EXPECT_EQ(publish.topic, "second");
}

}  // namespace
}  // namespace stellwerk::client

// session::Message and MessagePtr: one block per message (header, topic,
// payload), an intrusive count shared across threads, and the rules
// make_message applies to what a client sent.
#include "session/message.h"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

namespace stellwerk::session {
namespace {

TEST(Message, HeaderAndPointerAreSmall) {
  EXPECT_EQ(sizeof(Message), 32u);
  EXPECT_EQ(sizeof(MessagePtr), sizeof(void*));
}

TEST(Message, KeepsTopicPayloadAndFields) {
  const TimePoint deadline = TimePoint{} + std::chrono::hours(5);
  const auto message = Message::create(
      "a/b", std::string_view("\0x\xff", 3),
      {.qos = mqtt::QoS::exactly_once, .retain = true, .expires_at = deadline, .publisher_session = 42});
  EXPECT_EQ(message->topic(), "a/b");
  EXPECT_EQ(message->payload(), std::string_view("\0x\xff", 3));
  EXPECT_EQ(message->qos(), mqtt::QoS::exactly_once);
  EXPECT_TRUE(message->retain());
  EXPECT_EQ(message->publisher_session(), 42u);
  EXPECT_EQ(message->expires_at(), deadline);
  EXPECT_FALSE(message->expired(deadline - std::chrono::seconds(1)));
  EXPECT_TRUE(message->expired(deadline));
  EXPECT_FALSE(message->has_properties());
  EXPECT_GT(message->footprint(), sizeof(Message) + 3 + 3);  // the deadline lives beside the header
}

TEST(Message, WithoutExpiryNeverExpires) {
  const auto message = Message::create("t", "p", {});
  EXPECT_FALSE(message->expires_at());
  EXPECT_FALSE(message->expired(TimePoint::max()));
  EXPECT_EQ(message->qos(), mqtt::QoS::at_most_once);
  EXPECT_FALSE(message->retain());
}

TEST(Message, EmptyTopicAndPayload) {
  const auto message = Message::create({}, {}, {});
  EXPECT_TRUE(message->topic().empty());
  EXPECT_TRUE(message->payload().empty());
  EXPECT_EQ(message->footprint(), sizeof(Message));
}

TEST(Message, LongestTopicAndALargePayload) {
  const std::string topic(Message::kMaxTopicSize, 't');
  std::string payload(1 << 20, 'p');
  payload.front() = 'A';
  payload.back() = 'Z';
  const auto message = Message::create(topic, payload, {.qos = mqtt::QoS::at_least_once, .retain = true});
  EXPECT_EQ(message->topic(), topic);
  EXPECT_EQ(message->payload(), payload);
  EXPECT_EQ(message->qos(), mqtt::QoS::at_least_once);
  EXPECT_TRUE(message->retain());
  EXPECT_EQ(message->footprint(), sizeof(Message) + topic.size() + payload.size());
}

TEST(Message, PropertiesPresentOrAbsent) {
  mqtt::Properties properties;
  properties.content_type = "text/plain";
  properties.user_properties = {{"k", "v"}};
  const auto with = Message::create("t", "p", {.properties = std::make_unique<mqtt::Properties>(properties)});
  EXPECT_TRUE(with->has_properties());
  EXPECT_EQ(with->properties(), properties);
  EXPECT_GE(with->footprint(), sizeof(Message) + 2 + sizeof(mqtt::Properties));
  EXPECT_FALSE(with->expires_at());
  EXPECT_FALSE(with->expired(TimePoint::max()));

  const auto empty = Message::create("t", "p", {.properties = std::make_unique<mqtt::Properties>()});
  EXPECT_FALSE(empty->has_properties());  // an empty set costs no block
  EXPECT_EQ(empty->properties(), mqtt::Properties{});
  EXPECT_FALSE(Message::create("t", "p", {})->has_properties());
}

// Retained messages are what the broker holds by the million; their blocks
// come from the pool (but for AddressSanitizer builds, which need malloc's).
TEST(Message, RetainedMessagesComeFromThePool) {
#if defined(__SANITIZE_ADDRESS__)
  GTEST_SKIP() << "AddressSanitizer builds keep every message with malloc";
#else
  std::vector<MessagePtr> held;
  for (int i = 0; i < 1000; ++i) held.push_back(Message::create("a/b", "payload", {.retain = true}));
  EXPECT_TRUE(held.front()->pooled());
  EXPECT_GE(Message::pool_reserved_bytes(), 1000 * (sizeof(Message) + 10));
  EXPECT_EQ(held.back()->topic(), "a/b");
  EXPECT_EQ(held.back()->payload(), "payload");
  EXPECT_FALSE(Message::create("a/b", "payload", {})->pooled());  // passing through: malloc
  EXPECT_FALSE(Message::create("a/b", std::string(600, 'x'), {.retain = true})->pooled());  // beyond the classes
#endif
}

TEST(Message, StoreIdUsesFortyEightBits) {
  const auto message = Message::create("t", "p", {});
  EXPECT_EQ(message->store_id(), 0u);
  message->set_store_id(Message::kMaxStoreId);
  EXPECT_EQ(message->store_id(), Message::kMaxStoreId);
  message->set_store_id(0x1234'5678'9ABCu);
  EXPECT_EQ(message->store_id(), 0x1234'5678'9ABCu);
}

TEST(MessagePtr, CopiesShareAndCount) {
  MessagePtr first = Message::create("t", "p", {});
  EXPECT_EQ(first.use_count(), 1u);
  MessagePtr second = first;
  EXPECT_EQ(first, second);
  EXPECT_EQ(first.get(), second.get());
  EXPECT_EQ(first.use_count(), 2u);
  {
    const MessagePtr third(second);
    EXPECT_EQ(first.use_count(), 3u);
  }
  EXPECT_EQ(first.use_count(), 2u);
  second.reset();
  EXPECT_FALSE(second);
  EXPECT_EQ(second, nullptr);
  EXPECT_EQ(first.use_count(), 1u);
}

TEST(MessagePtr, MovesLeaveTheSourceEmpty) {
  MessagePtr source = Message::create("t", "p", {});
  const Message* raw = source.get();
  MessagePtr target = std::move(source);
  EXPECT_FALSE(source);  // NOLINT(bugprone-use-after-move): moved-from is empty by contract
  EXPECT_EQ(target.get(), raw);
  EXPECT_EQ(target.use_count(), 1u);

  MessagePtr other = Message::create("u", "q", {});
  other = std::move(target);
  EXPECT_EQ(other.get(), raw);
  EXPECT_EQ(other->topic(), "t");
  EXPECT_EQ(other.use_count(), 1u);
}

TEST(MessagePtr, AssignmentReplacesAndSelfAssignmentKeeps) {
  MessagePtr a = Message::create("a", "1", {});
  MessagePtr b = Message::create("b", "2", {});
  a = b;
  EXPECT_EQ(a->topic(), "b");
  EXPECT_EQ(b.use_count(), 2u);
  const MessagePtr& alias = a;
  a = alias;
  EXPECT_EQ(a->topic(), "b");
  EXPECT_EQ(b.use_count(), 2u);
  a = nullptr;
  EXPECT_EQ(b.use_count(), 1u);
  EXPECT_EQ(MessagePtr().use_count(), 0u);
  EXPECT_EQ((*b).payload(), "2");
}

// The count is shared by every worker that queues the message; run under
// TSan in CI. Each thread copies and drops its copies; the message must end
// with exactly the original reference.
TEST(MessagePtr, CountIsThreadSafe) {
  const MessagePtr message = Message::create("t", "p", {});
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&message] {
      std::vector<MessagePtr> copies;
      for (int i = 0; i < 10000; ++i) copies.push_back(message);
      copies.clear();
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(message.use_count(), 1u);
}

TEST(MakeMessage, DropsPerDeliveryPropertiesAndSetsTheDeadline) {
  const TimePoint now = TimePoint{} + std::chrono::hours(1);
  mqtt::Properties properties;
  properties.topic_alias = 3;
  properties.subscription_identifiers = {7};
  properties.will_delay_interval = 9;
  properties.message_expiry_interval = 60;
  properties.content_type = "json";
  const auto message =
      make_message("t", "p", mqtt::QoS::at_least_once, true, std::move(properties), now, 5);
  EXPECT_EQ(message->expires_at(), now + std::chrono::seconds(60));
  EXPECT_FALSE(message->properties().topic_alias);
  EXPECT_TRUE(message->properties().subscription_identifiers.empty());
  EXPECT_FALSE(message->properties().will_delay_interval);
  EXPECT_EQ(message->properties().content_type, "json");
  EXPECT_EQ(message->publisher_session(), 5u);
  EXPECT_EQ(message->qos(), mqtt::QoS::at_least_once);
  EXPECT_TRUE(message->retain());
}

TEST(MakeMessage, OnlyPerDeliveryPropertiesLeaveNone) {
  mqtt::Properties properties;
  properties.topic_alias = 3;
  const auto message = make_message("t", "p", mqtt::QoS::at_most_once, false, &properties, TimePoint{}, 0);
  EXPECT_FALSE(message->has_properties());
  EXPECT_FALSE(message->expires_at());
  EXPECT_FALSE(make_message("t", "p", mqtt::QoS::at_most_once, false, nullptr, TimePoint{}, 0)->has_properties());
}

}  // namespace
}  // namespace stellwerk::session

// Time conversion and batch building on the broker's side: bodies written
// once per batch, ids kept across batches, unknown messages skipped.
#include "store/batch.h"

#include <gtest/gtest.h>

#include "store/frame.h"
#include "store_test_util.h"

namespace stellwerk::store {

using testing::fixed_time;
using testing::make_message;

namespace {

// The records of a batch, decoded.
std::vector<Record> records_of(std::string bytes) {
  frame::seal(bytes, 1);
  std::vector<Record> out;
  frame::Reader reader(bytes);
  frame::Frame frame;
  while (reader.next(frame) == frame::ReadStatus::ok)
    out.push_back(*decode_payload(frame.type, frame.payload));
  return out;
}

}  // namespace

class BatchTest : public ::testing::Test {
 protected:
  Batch batch() { return Batch(registry_, fixed_time()); }
  static std::string finish(Batch& b) { return b.finish(); }

  MessageRegistry registry_;
};

namespace {

TEST(TimeBase, ConvertsDeadlinesBothWays) {
  const TimeBase time = fixed_time();
  EXPECT_EQ(time.to_wall(std::nullopt), 0);
  EXPECT_EQ(time.to_wall(time.steady + std::chrono::seconds(5)), time.wall + 5000);
  EXPECT_EQ(time.to_steady(time.wall + 5000), time.steady + std::chrono::seconds(5));
  EXPECT_EQ(time.to_steady(0), std::nullopt);
  EXPECT_EQ(time.to_wall(time.steady - std::chrono::hours(24 * 365 * 60)), 1);  // before the epoch
}

TEST(TimeBase, MessageAndLifetimeSurviveTheRoundTrip) {
  const TimeBase time = fixed_time();
  session::Message message;
  message.topic = "t";
  message.payload = "p";
  message.qos = mqtt::QoS::exactly_once;
  mqtt::Properties properties;
  properties.content_type = "c";
  message.set_properties(properties);
  message.expires_at = time.steady + std::chrono::seconds(9);
  message.publisher_session = 4;
  const session::MessagePtr back = to_message(to_body(message, time), time);
  EXPECT_EQ(back->topic, "t");
  EXPECT_EQ(back->qos, mqtt::QoS::exactly_once);
  EXPECT_EQ(back->properties(), message.properties());
  EXPECT_EQ(back->expires_at, message.expires_at);
  EXPECT_EQ(back->publisher_session, 0u);  // meaningless after a restart

  session::Lifetime lifetime;
  lifetime.expiry_interval = 30;
  lifetime.expires_at = time.steady + std::chrono::seconds(30);
  lifetime.will = mqtt::Will{"w", "x", mqtt::QoS::at_least_once, true, {}};
  const session::Lifetime restored = to_lifetime(to_info(lifetime, time), time);
  EXPECT_EQ(restored.expires_at, lifetime.expires_at);
  EXPECT_EQ(restored.will, lifetime.will);
  EXPECT_FALSE(restored.will_due_at);
}

TEST_F(BatchTest, FanOutWritesTheBodyOnce) {
  const auto message = make_message("t", "payload", mqtt::QoS::at_least_once, true);
  Batch b = batch();
  b.retain(message);
  for (const char* client : {"a", "b", "c"})
    b.enqueue(client, {message, mqtt::QoS::at_least_once, false, {}});
  EXPECT_EQ(b.records(), 5u);
  const auto records = records_of(finish(b));
  ASSERT_EQ(records.size(), 5u);
  const auto& put = std::get<record::MessagePut>(records[0]);
  EXPECT_EQ(put.body.payload, "payload");
  EXPECT_EQ(std::get<record::QueuePush>(records[4]).delivery.message, put.id);
}

TEST_F(BatchTest, LaterBatchesKeepTheIdAndCarryTheBodyOnlyWhenAddingReferences) {
  const auto message = make_message("t", "p", mqtt::QoS::at_least_once, false);
  Batch first = batch();
  first.enqueue("a", {message, mqtt::QoS::at_least_once, false, {}});
  const MessageId id = std::get<record::MessagePut>(records_of(finish(first))[0]).id;

  Batch moves = batch();
  moves.start_inflight("a", message, 1, session::InflightState::awaiting_puback);
  moves.dequeue("b", message);
  const auto move_records = records_of(finish(moves));
  ASSERT_EQ(move_records.size(), 2u);
  EXPECT_EQ(std::get<record::QueueToInflight>(move_records[0]).message, id);

  Batch again = batch();
  again.enqueue("b", {message, mqtt::QoS::at_least_once, false, {}});
  const auto again_records = records_of(finish(again));
  ASSERT_EQ(again_records.size(), 2u);
  EXPECT_EQ(std::get<record::MessagePut>(again_records[0]).id, id);
}

TEST_F(BatchTest, UnknownMessagesAreNotInAnyStoredQueue) {
  const auto never_stored = make_message("t", "p", mqtt::QoS::at_most_once, false);
  Batch b = batch();
  b.dequeue("a", never_stored);
  b.start_inflight("a", never_stored, 1, session::InflightState::awaiting_puback);
  EXPECT_TRUE(b.empty());
}

TEST_F(BatchTest, RegistryForgetsReleasedMessages) {
  auto message = make_message("t", "p", mqtt::QoS::at_least_once, false);
  const MessageId id = registry_.assign(message);
  EXPECT_EQ(registry_.find(message), id);
  std::weak_ptr<const session::Message> weak = message;
  message.reset();
  EXPECT_TRUE(weak.expired());
  auto other = make_message("t", "p", mqtt::QoS::at_least_once, false);
  EXPECT_NE(registry_.assign(other), id);
}

TEST_F(BatchTest, FinishMarksOnlyTheLastFrameAsBatchEnd) {
  Batch b = batch();
  b.delete_session("a");
  b.delete_session("b");
  std::string bytes = finish(b);
  frame::seal(bytes, 1);
  frame::Reader reader(bytes);
  frame::Frame frame;
  ASSERT_EQ(reader.next(frame), frame::ReadStatus::ok);
  EXPECT_FALSE(frame.batch_end);
  ASSERT_EQ(reader.next(frame), frame::ReadStatus::ok);
  EXPECT_TRUE(frame.batch_end);
}

}  // namespace
}  // namespace stellwerk::store

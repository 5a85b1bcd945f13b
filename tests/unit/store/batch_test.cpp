// Time conversion and batch building on the broker's side: bodies written
// once per batch, ids kept across batches, unknown messages skipped.
#include "store/batch.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>

#include "store/frame.h"
#include "store_test_util.h"

namespace stellwerk::store {

using testing::fixed_time;
using testing::make_message;

namespace {

// The frames of a finished batch, sealed in place: their payloads point into `bytes`.
std::vector<frame::Frame> frames_of(std::string& bytes) {
  frame::seal(bytes, 1);
  std::vector<frame::Frame> out;
  frame::Reader reader(bytes);
  frame::Frame frame;
  while (reader.next(frame) == frame::ReadStatus::ok) out.push_back(frame);
  return out;
}

// The records of a batch, decoded.
std::vector<Record> records_of(std::string bytes) {
  std::vector<Record> out;
  for (const frame::Frame& frame : frames_of(bytes))
    out.push_back(*decode_payload(frame.type, frame.payload));
  return out;
}

}  // namespace

class BatchTest : public ::testing::Test {
 protected:
  Batch batch() { return Batch(ids_, fixed_time()); }
  Batch batch(const std::atomic<bool>& bodies_wanted) { return Batch(ids_, fixed_time(), &bodies_wanted); }
  static BatchData finish_data(Batch& b) { return b.finish(); }
  static std::string finish(Batch& b) { return b.finish().frames; }

  MessageIds ids_;
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

TEST(TimeBase, LifetimeSurvivesTheRoundTrip) {
  const TimeBase time = fixed_time();
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
  EXPECT_EQ(put.message->payload(), "payload");
  EXPECT_EQ(std::get<record::QueuePush>(records[4]).delivery.message, put.id);
}

TEST_F(BatchTest, TheBodiesAreHandedOverAsTheBrokersOwnMessages) {
  const auto first = make_message("t", "1", mqtt::QoS::at_least_once, true);
  const session::MessagePtr second =
      session::Message::create("u", "2", {.expires_at = fixed_time().steady + std::chrono::seconds(3)});
  Batch b = batch();
  b.retain(first);
  b.enqueue("a", {second, mqtt::QoS::at_least_once, false, {}});
  b.enqueue("b", {first, mqtt::QoS::at_least_once, false, {}});
  BatchData data = finish_data(b);
  ASSERT_EQ(data.bodies.size(), 2u);
  EXPECT_EQ(data.bodies[0].message, first);  // the same object, not a copy
  EXPECT_EQ(data.bodies[1].message, second);
  EXPECT_EQ(data.bodies[1].expires_at, fixed_time().wall + 3000);
  // In the order of their frames, with the same ids and expiry.
  const auto records = records_of(data.frames);
  EXPECT_EQ(std::get<record::MessagePut>(records[0]), data.bodies[0]);
  EXPECT_EQ(std::get<record::MessagePut>(records[2]), data.bodies[1]);
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

TEST_F(BatchTest, AMessageQueuedAndSentAtOnceIsOneRecord) {
  const auto message = make_message("t", "p", mqtt::QoS::exactly_once, false);
  const session::Delivery delivery{message, mqtt::QoS::exactly_once, true, {7, 9}};
  Batch b = batch();
  b.enqueue("a", delivery);
  b.start_inflight("a", message, 3, session::InflightState::awaiting_pubrec);
  const auto records = records_of(finish(b));
  ASSERT_EQ(records.size(), 2u);
  const auto& sent = std::get<record::QueuePushInflight>(records[1]);
  EXPECT_EQ(sent.client_id, "a");
  EXPECT_EQ(sent.packet_id, 3);
  EXPECT_EQ(sent.state, session::InflightState::awaiting_pubrec);
  EXPECT_EQ(sent.delivery, (DeliveryRef{*MessageIds::find(*message), mqtt::QoS::exactly_once, true, {7, 9}}));
}

TEST_F(BatchTest, ADeliverySentAtOnceCarriesTheBodyAndThePushInOneRecord) {
  const auto message = make_message("t", "p", mqtt::QoS::exactly_once, false);
  const session::Delivery delivery{message, mqtt::QoS::exactly_once, true, {7, 9}};
  Batch queued_then_sent = batch();
  queued_then_sent.enqueue("a", delivery);
  queued_then_sent.start_inflight("a", message, 3, session::InflightState::awaiting_pubrec);
  const auto separate = records_of(finish(queued_then_sent));
  ASSERT_EQ(separate.size(), 2u);

  Batch sent_at_once = batch();
  sent_at_once.push_inflight("a", delivery, 3, session::InflightState::awaiting_pubrec);
  sent_at_once.push_inflight("b", delivery, 4, session::InflightState::awaiting_pubrec);
  EXPECT_EQ(sent_at_once.records(), 2u);
  const auto records = records_of(finish(sent_at_once));
  ASSERT_EQ(records.size(), 2u);
  // The first delivery carries the body; the second refers to it.
  const auto& fused = std::get<record::MessagePutInflight>(records[0]);
  EXPECT_EQ(fused.body, std::get<record::MessagePut>(separate[0]));
  EXPECT_EQ(fused.push, std::get<record::QueuePushInflight>(separate[1]));
  const auto& second = std::get<record::QueuePushInflight>(records[1]);
  EXPECT_EQ(second.client_id, "b");
  EXPECT_EQ(second.delivery.message, fused.body.id);
}

TEST_F(BatchTest, ABodyCarriedByAPushIsNotWrittenAgainInTheBatch) {
  const auto message = make_message("t", "p", mqtt::QoS::at_least_once, true);
  Batch b = batch();
  b.push_inflight("a", {message, mqtt::QoS::at_least_once, false, {}}, 1,
                  session::InflightState::awaiting_puback);
  b.retain(message);
  b.enqueue("c", {message, mqtt::QoS::at_least_once, false, {}});
  const auto records = records_of(finish(b));
  ASSERT_EQ(records.size(), 3u);
  const MessageId id = std::get<record::MessagePutInflight>(records[0]).body.id;
  EXPECT_EQ(std::get<record::RetainedSet>(records[1]).id, id);
  EXPECT_EQ(std::get<record::QueuePush>(records[2]).delivery.message, id);
}

TEST_F(BatchTest, APushIsKeptWhenAnythingCameBetweenItAndTheSend) {
  const auto message = make_message("t", "p", mqtt::QoS::at_least_once, false);
  const auto other = make_message("u", "p", mqtt::QoS::at_least_once, false);
  Batch b = batch();
  b.enqueue("a", {message, mqtt::QoS::at_least_once, false, {}});
  b.enqueue("b", {message, mqtt::QoS::at_least_once, false, {}});
  b.start_inflight("a", message, 1, session::InflightState::awaiting_puback);  // not the last push
  b.enqueue("c", {other, mqtt::QoS::at_least_once, false, {}});
  b.start_inflight("c", message, 2, session::InflightState::awaiting_puback);  // another message
  b.start_inflight("c", other, 3, session::InflightState::awaiting_puback);    // a record came between
  const auto records = records_of(finish(b));
  ASSERT_EQ(records.size(), 8u);
  EXPECT_TRUE(std::holds_alternative<record::QueueToInflight>(records[3]));
  EXPECT_TRUE(std::holds_alternative<record::QueuePush>(records[5]));
  EXPECT_TRUE(std::holds_alternative<record::QueueToInflight>(records[7]));
}

// enqueue() encodes its queue_push only once another record follows (or
// the batch ends), so that a send right after it is encoded once.
TEST_F(BatchTest, APushNotYetEncodedCountsAndEndsTheBatch) {
  const auto message = make_message("t", "p", mqtt::QoS::at_least_once, false);
  Batch b = batch();
  b.enqueue("a", {message, mqtt::QoS::at_least_once, false, {5}});
  EXPECT_EQ(b.records(), 2u);
  std::string bytes = finish(b);
  const auto frames = frames_of(bytes);
  ASSERT_EQ(frames.size(), 2u);
  EXPECT_FALSE(frames[0].batch_end);
  EXPECT_EQ(frames[1].type, RecordType::queue_push);
  EXPECT_TRUE(frames[1].batch_end);
  const auto push = std::get<record::QueuePush>(*decode_payload(frames[1].type, frames[1].payload));
  EXPECT_EQ(push,
            (record::QueuePush{"a", {*MessageIds::find(*message), mqtt::QoS::at_least_once, false, {5}}}));
  EXPECT_TRUE(b.empty());
}

// The broker records a delivery before the session takes it; a session
// that refuses it (a full queue) takes the record back.
TEST_F(BatchTest, AWithdrawnPushLeavesOnlyItsBody) {
  const auto kept = make_message("t", "p", mqtt::QoS::at_least_once, false);
  const auto refused = make_message("u", "q", mqtt::QoS::at_least_once, false);
  Batch b = batch();
  b.enqueue("a", {kept, mqtt::QoS::at_least_once, false, {}});
  b.enqueue("a", {refused, mqtt::QoS::at_least_once, false, {}});
  b.withdraw_enqueue();
  b.withdraw_enqueue();  // nothing pending: the first push was written when the second began
  EXPECT_EQ(b.records(), 3u);
  const auto records = records_of(finish(b));
  ASSERT_EQ(records.size(), 3u);
  EXPECT_EQ(std::get<record::QueuePush>(records[1]).delivery.message, *MessageIds::find(*kept));
  EXPECT_EQ(std::get<record::MessagePut>(records[2]).id, *MessageIds::find(*refused));
}

TEST_F(BatchTest, PushesKeepTheirOrderAmongOtherRecords) {
  const auto first = make_message("t", "1", mqtt::QoS::at_least_once, false);
  const auto second = make_message("t", "2", mqtt::QoS::at_least_once, false);
  Batch b = batch();
  b.enqueue("a", {first, mqtt::QoS::at_least_once, false, {}});
  b.enqueue("b", {first, mqtt::QoS::at_least_once, false, {}});  // its body is in already
  b.enqueue("c", {second, mqtt::QoS::at_least_once, false, {}});
  b.complete_inflight("c", 9);
  const auto records = records_of(finish(b));
  ASSERT_EQ(records.size(), 6u);
  EXPECT_EQ(std::get<record::QueuePush>(records[1]).client_id, "a");
  EXPECT_EQ(std::get<record::QueuePush>(records[2]).client_id, "b");
  EXPECT_TRUE(std::holds_alternative<record::MessagePut>(records[3]));
  EXPECT_EQ(std::get<record::QueuePush>(records[4]).client_id, "c");
  EXPECT_TRUE(std::holds_alternative<record::InflightDelete>(records[5]));
}

TEST_F(BatchTest, ASessionsAcknowledgementsInARowShareOneRecord) {
  const auto message = make_message("t", "1", mqtt::QoS::at_least_once, false);
  Batch b = batch();
  b.complete_inflight("a", 1);
  b.complete_inflight("a", 2);
  b.complete_inflight("a", 3);
  b.complete_inflight("b", 4);  // another session: a record of its own
  b.complete_inflight("a", 5);  // not in a row with a's first three
  b.enqueue("a", {message, mqtt::QoS::at_least_once, false, {}});
  b.complete_inflight("a", 6);  // after the pending push is written
  EXPECT_EQ(b.records(), 6u);
  const auto records = records_of(finish(b));
  ASSERT_EQ(records.size(), 6u);
  EXPECT_EQ(std::get<record::InflightDeleteMany>(records[0]), (record::InflightDeleteMany{"a", {1, 2, 3}}));
  EXPECT_EQ(std::get<record::InflightDelete>(records[1]), (record::InflightDelete{"b", 4}));
  EXPECT_EQ(std::get<record::InflightDelete>(records[2]), (record::InflightDelete{"a", 5}));
  EXPECT_TRUE(std::holds_alternative<record::MessagePut>(records[3]));
  EXPECT_TRUE(std::holds_alternative<record::QueuePush>(records[4]));
  EXPECT_EQ(std::get<record::InflightDelete>(records[5]), (record::InflightDelete{"a", 6}));
}

TEST_F(BatchTest, AcknowledgementsStartANewRecordInTheNextBatchAndPastTheBound) {
  Batch b = batch();
  b.complete_inflight("a", 1);
  finish(b);
  b.complete_inflight("a", 2);  // the earlier record left with its batch
  for (uint16_t id = 3; id <= 1100; ++id) b.complete_inflight("a", id);
  const auto records = records_of(finish(b));
  ASSERT_EQ(records.size(), 2u);
  const auto& first = std::get<record::InflightDeleteMany>(records[0]);
  ASSERT_EQ(first.packet_ids.size(), 1024u);  // in one record at most
  EXPECT_EQ(first.packet_ids.front(), 2);
  EXPECT_EQ(first.packet_ids.back(), 1025);
  const auto& second = std::get<record::InflightDeleteMany>(records[1]);
  ASSERT_EQ(second.packet_ids.size(), 75u);
  EXPECT_EQ(second.packet_ids.front(), 1026);
}

// The next batch's first frame sits where the last one's delete did: it is
// not taken for that delete.
TEST_F(BatchTest, AnAcknowledgementAfterAnotherRecordInTheNextBatchStartsItsOwn) {
  Batch b = batch();
  b.complete_inflight("a", 1);
  finish(b);
  b.release_inbound_qos2("a", 9);
  b.complete_inflight("a", 2);
  b.complete_inflight("a", 3);
  const auto records = records_of(finish(b));
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(std::get<record::InboundQos2Remove>(records[0]), (record::InboundQos2Remove{"a", 9}));
  EXPECT_EQ(std::get<record::InflightDeleteMany>(records[1]), (record::InflightDeleteMany{"a", {2, 3}}));
}

TEST_F(BatchTest, ABodyIsWrittenOnceAmongManyFreshMessages) {
  std::vector<session::MessagePtr> messages;
  Batch b = batch();
  for (int i = 0; i < 40; ++i) {  // past the scanned few: the body index takes over
    messages.push_back(make_message("t", std::to_string(i), mqtt::QoS::at_least_once, false));
    b.enqueue("a", {messages.back(), mqtt::QoS::at_least_once, false, {}});
  }
  for (int i : {3, 20, 39})
    b.enqueue("b", {messages[static_cast<size_t>(i)], mqtt::QoS::at_least_once, false, {}});
  const auto records = records_of(finish(b));
  const auto bodies = std::count_if(records.begin(), records.end(), [](const Record& r) {
    return std::holds_alternative<record::MessagePut>(r);
  });
  EXPECT_EQ(bodies, 40);
  EXPECT_EQ(records.size(), 83u);
}

TEST_F(BatchTest, APushDoesNotJoinASendInTheNextBatch) {
  const auto message = make_message("t", "p", mqtt::QoS::at_least_once, false);
  Batch b = batch();
  b.enqueue("a", {message, mqtt::QoS::at_least_once, false, {}});
  finish(b);
  b.start_inflight("a", message, 1, session::InflightState::awaiting_puback);
  const auto records = records_of(finish(b));
  ASSERT_EQ(records.size(), 1u);
  EXPECT_TRUE(std::holds_alternative<record::QueueToInflight>(records[0]));
}

TEST_F(BatchTest, UnknownMessagesAreNotInAnyStoredQueue) {
  const auto never_stored = make_message("t", "p", mqtt::QoS::at_most_once, false);
  Batch b = batch();
  b.dequeue("a", never_stored);
  b.start_inflight("a", never_stored, 1, session::InflightState::awaiting_puback);
  EXPECT_TRUE(b.empty());
}

TEST_F(BatchTest, EachMessageKeepsTheIdItWasGiven) {
  auto message = make_message("t", "p", mqtt::QoS::at_least_once, false);
  EXPECT_EQ(MessageIds::find(*message), std::nullopt);
  const MessageId id = ids_.assign(*message);
  EXPECT_EQ(MessageIds::find(*message), id);
  EXPECT_EQ(ids_.assign(*message), id);
  // A message with the same content is another message.
  auto other = make_message("t", "p", mqtt::QoS::at_least_once, false);
  EXPECT_NE(ids_.assign(*other), id);
  ids_.start_after(100);
  EXPECT_EQ(ids_.assign(*make_message("u", "p", mqtt::QoS::at_least_once, false)), 101u);
}

TEST_F(BatchTest, ManyBodiesInOneBatchAreEachWrittenOnce) {
  // Past the scanned few, an index decides; both must agree.
  std::vector<session::MessagePtr> messages;
  for (int i = 0; i < 40; ++i)
    messages.push_back(make_message(fmt::format("t/{}", i), "p", mqtt::QoS::at_least_once, true));
  Batch b = batch();
  for (int round = 0; round < 2; ++round) {
    for (const auto& message : messages) b.enqueue("c", {message, mqtt::QoS::at_least_once, false, {}});
  }
  const BatchData data = finish_data(b);
  EXPECT_EQ(data.bodies.size(), messages.size());
  EXPECT_EQ(records_of(data.frames).size(), 3 * messages.size());
}

TEST_F(BatchTest, WithoutAMirrorNoMessageIsHeldButEachBodyIsStillWrittenOnce) {
  std::vector<session::MessagePtr> messages;
  for (int i = 0; i < 40; ++i)
    messages.push_back(make_message(fmt::format("t/{}", i), "p", mqtt::QoS::at_least_once, true));
  std::atomic<bool> bodies_wanted{false};
  Batch b = batch(bodies_wanted);
  for (int round = 0; round < 2; ++round) {
    for (const auto& message : messages) b.enqueue("c", {message, mqtt::QoS::at_least_once, false, {}});
  }
  const BatchData data = finish_data(b);
  EXPECT_TRUE(data.bodies.empty());
  EXPECT_EQ(records_of(data.frames).size(), 3 * messages.size());
  for (const auto& message : messages) EXPECT_EQ(message.use_count(), 1u) << "the batch kept a reference";
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

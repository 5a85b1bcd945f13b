// Every record type survives encode/frame/decode unchanged; malformed
// payloads and damaged frames are refused, never misread.
#include "store/record.h"

#include <gtest/gtest.h>

#include <set>

#include "store/frame.h"
#include "store_test_util.h"

namespace stellwerk::store {
namespace {

using testing::all_properties;

DeliveryRef delivery() { return DeliveryRef{77, mqtt::QoS::exactly_once, true, {3, 4, 300000}}; }

session::MessagePtr message_with_everything() {
  return session::Message::create("t/1", std::string_view("\0bin\xff", 5),
                                  {.qos = mqtt::QoS::at_least_once,
                                   .retain = true,
                                   .properties = std::make_unique<mqtt::Properties>(all_properties())});
}

// One record of every type, with every field away from its default.
std::vector<Record> every_record() {
  using session::InflightState;
  const mqtt::Will will{"will/t", std::string("p\0q", 3), mqtt::QoS::exactly_once, true, all_properties()};
  const mqtt::SubscriptionOptions options{mqtt::QoS::exactly_once, true, true,
                                          mqtt::RetainHandling::do_not_send};
  return {
      record::MessagePut{1ull << 40, message_with_everything(), 1'700'000'000'123},
      record::RetainedSet{5},
      record::RetainedClear{"t/1"},
      record::SessionPut{"c1", SessionInfo{0xFFFFFFFF, will, 123, 456}},
      record::SessionPut{"c2", SessionInfo{10, std::nullopt, 0, 0}},
      record::SessionDelete{"c1"},
      record::SubscriptionPut{"c1", "$share/g/a/#", options, 268435455},
      record::SubscriptionDelete{"c1", "a/+"},
      record::QueuePush{"c1", delivery()},
      record::QueueDrop{"c1", 77},
      record::QueueToInflight{"c1", 77, 65535, InflightState::awaiting_pubcomp},
      record::InflightPut{"c1", 9, InflightState::awaiting_pubrec, delivery()},
      record::InflightState{"c1", 9, InflightState::awaiting_pubcomp},
      record::InflightDelete{"c1", 9},
      record::InboundQos2Add{"c1", 1},
      record::InboundQos2Remove{"c1", 1},
      record::MessagesClear{"c1"},
      record::SnapshotEnd{42},
      record::QueuePushInflight{"c1", 65534, InflightState::awaiting_pubrec, delivery()},
      record::Slice{1'000'000'007},
      record::InflightDeleteMany{"c1", {9, 10, 65535}},
      record::MessagePutInflight{
          record::MessagePut{77, message_with_everything(), 1'700'000'000'456},
          record::QueuePushInflight{"c1", 65533, InflightState::awaiting_puback, delivery()}},
  };
}

TEST(Record, EveryTypeRoundTripsThroughItsPayload) {
  std::set<RecordType> seen;
  for (const Record& record : every_record()) {
    std::string payload;
    encode_payload(record, payload);
    auto decoded = decode_payload(type_of(record), payload);
    ASSERT_TRUE(decoded) << to_string(type_of(record));
    EXPECT_EQ(*decoded, record) << to_string(type_of(record));
    seen.insert(type_of(record));
  }
  EXPECT_EQ(seen.size(), kLastRecordType);
}

TEST(Record, TheMirrorsViewsDecodeWhatTheRecordsHold) {
  InflightEntryView entry;
  ClientPacketView packet;
  size_t viewed = 0;
  for (const Record& record : every_record()) {
    std::string payload;
    encode_payload(record, payload);
    const std::string longer = payload + "x";
    if (const auto* r = std::get_if<record::QueuePushInflight>(&record)) {
      ASSERT_TRUE(decode_inflight_entry(payload, entry));
      EXPECT_EQ(entry.client_id, r->client_id);
      EXPECT_EQ(entry.packet_id, r->packet_id);
      EXPECT_EQ(entry.state, r->state);
      EXPECT_EQ(entry.delivery, r->delivery);
      EXPECT_FALSE(decode_inflight_entry(longer, entry));
      ++viewed;
    } else if (const auto* d = std::get_if<record::InflightDelete>(&record)) {
      ASSERT_TRUE(decode_client_packet(payload, packet));
      EXPECT_EQ(packet.client_id, d->client_id);
      EXPECT_EQ(packet.packet_id, d->packet_id);
      EXPECT_FALSE(decode_client_packet(longer, packet));
      EXPECT_FALSE(decode_client_packet(payload.substr(0, payload.size() - 1), packet));
      ++viewed;
    } else if (const auto* m = std::get_if<record::InflightDeleteMany>(&record)) {
      InflightDeleteManyView deleted;
      ASSERT_TRUE(decode_inflight_delete_many(payload, deleted));
      EXPECT_EQ(deleted.client_id, m->client_id);
      ASSERT_EQ(deleted.count(), m->packet_ids.size());
      for (size_t i = 0; i < deleted.count(); ++i) EXPECT_EQ(deleted.packet_id(i), m->packet_ids[i]);
      EXPECT_FALSE(decode_inflight_delete_many(longer, deleted));
      EXPECT_FALSE(decode_inflight_delete_many(payload.substr(0, payload.size() - 2), deleted));
      ++viewed;
    } else if (const auto* f = std::get_if<record::MessagePutInflight>(&record)) {
      const size_t body_at = read_message_put_inflight_push(payload, entry);
      ASSERT_GT(body_at, 0u);
      EXPECT_EQ(entry.client_id, f->push.client_id);
      EXPECT_EQ(entry.packet_id, f->push.packet_id);
      EXPECT_EQ(entry.delivery, f->push.delivery);
      EXPECT_EQ(message_put_id(std::string_view(payload).substr(body_at)), f->body.id);
      EXPECT_EQ(read_message_put_inflight_push(payload.substr(0, 3), entry), 0u);
      ++viewed;
    }
  }
  EXPECT_EQ(viewed, 4u);
  std::string none;  // an inflight_delete_many names at least one packet id
  encode_payload(record::InflightDeleteMany{"c1", {}}, none);
  EXPECT_FALSE(decode_payload(RecordType::inflight_delete_many, none));
  // A reused view starts its subscription identifiers afresh.
  std::string payload;
  encode_payload(record::InflightPut{"c", 1, session::InflightState::awaiting_puback, {}}, payload);
  ASSERT_TRUE(decode_inflight_entry(payload, entry));
  EXPECT_TRUE(entry.delivery.subscription_ids.empty());
}

TEST(Record, AMessagePutInflightRefersToTheBodyItCarries) {
  record::MessagePutInflight fused{
      record::MessagePut{5, message_with_everything(), 0},
      record::QueuePushInflight{"c1", 1, session::InflightState::awaiting_puback, delivery()}};  // message 77
  std::string payload;
  encode_payload(fused, payload);
  EXPECT_FALSE(decode_payload(RecordType::message_put_inflight, payload));
  fused.body.id = 77;
  payload.clear();
  encode_payload(fused, payload);
  EXPECT_TRUE(decode_payload(RecordType::message_put_inflight, payload));
}

TEST(Record, RecordsAboutASessionNameIt) {
  for (const Record& record : every_record()) {
    const bool about_a_session = !std::holds_alternative<record::MessagePut>(record) &&
                                 !std::holds_alternative<record::RetainedSet>(record) &&
                                 !std::holds_alternative<record::RetainedClear>(record) &&
                                 !std::holds_alternative<record::SnapshotEnd>(record) &&
                                 !std::holds_alternative<record::Slice>(record);
    if (about_a_session) {
      ASSERT_TRUE(client_id_of(record).has_value()) << to_string(type_of(record));
      EXPECT_TRUE(client_id_of(record)->starts_with("c")) << to_string(type_of(record));
    } else {
      EXPECT_EQ(client_id_of(record), std::nullopt) << to_string(type_of(record));
    }
  }
}

TEST(Record, EveryTypeRoundTripsThroughFrames) {
  std::string bytes;
  const auto records = every_record();
  for (size_t i = 0; i < records.size(); ++i) frame::append(bytes, records[i], i % 2 == 1, 100 + i);
  frame::Reader reader(bytes);
  frame::Frame frame;
  for (size_t i = 0; i < records.size(); ++i) {
    ASSERT_EQ(reader.next(frame), frame::ReadStatus::ok);
    EXPECT_EQ(frame.sequence, 100 + i);
    EXPECT_EQ(frame.batch_end, i % 2 == 1);
    EXPECT_EQ(decode_payload(frame.type, frame.payload), records[i]);
  }
  EXPECT_EQ(reader.next(frame), frame::ReadStatus::end);
}

TEST(Record, TruncatedPayloadsAreRefused) {
  for (const Record& record : every_record()) {
    std::string payload;
    encode_payload(record, payload);
    for (size_t size = 0; size < payload.size(); ++size) {
      EXPECT_FALSE(decode_payload(type_of(record), payload.substr(0, size)))
          << to_string(type_of(record)) << " cut at " << size;
    }
    EXPECT_FALSE(decode_payload(type_of(record), payload + "x")) << "trailing byte";
  }
}

TEST(Record, OutOfRangeEnumsAreRefused) {
  std::string payload;
  encode_payload(record::InflightState{"c", 1, session::InflightState::awaiting_puback}, payload);
  payload.back() = 3;  // no fourth state
  EXPECT_FALSE(decode_payload(RecordType::inflight_state, payload));
  EXPECT_FALSE(decode_payload(static_cast<RecordType>(0), ""));
  EXPECT_FALSE(decode_payload(static_cast<RecordType>(kLastRecordType + 1), ""));
}

TEST(Frame, SealNumbersAndChecksumsUnsealedFrames) {
  std::string bytes;
  frame::append_unsealed(bytes, record::SessionDelete{"a"}, false);
  frame::append_unsealed(bytes, record::SessionDelete{"b"}, true);
  EXPECT_EQ(frame::seal(bytes, 41), 2u);
  frame::Reader reader(bytes);
  frame::Frame frame;
  ASSERT_EQ(reader.next(frame), frame::ReadStatus::ok);
  EXPECT_EQ(frame.sequence, 41u);
  EXPECT_FALSE(frame.batch_end);
  ASSERT_EQ(reader.next(frame), frame::ReadStatus::ok);
  EXPECT_EQ(frame.sequence, 42u);
  EXPECT_TRUE(frame.batch_end);
}

TEST(Frame, EveryBitFlipIsDetected) {
  std::string bytes;
  frame::append(bytes, record::QueuePush{"client", delivery()}, true, 7);
  for (size_t bit = 0; bit < bytes.size() * 8; ++bit) {
    std::string damaged = bytes;
    damaged[bit / 8] = static_cast<char>(damaged[bit / 8] ^ (1 << (bit % 8)));
    frame::Reader reader(damaged);
    frame::Frame frame;
    EXPECT_NE(reader.next(frame), frame::ReadStatus::ok) << "bit " << bit;
  }
}

TEST(Frame, ShortInputIsTruncatedNotCorrupt) {
  std::string bytes;
  frame::append(bytes, record::SessionDelete{"client"}, true, 1);
  for (size_t size = 1; size < bytes.size(); ++size) {
    frame::Reader reader(std::string_view(bytes).substr(0, size));
    frame::Frame frame;
    EXPECT_EQ(reader.next(frame), frame::ReadStatus::truncated) << size;
  }
}

TEST(Frame, SaltedSegmentHeadersAndTheirSeeds) {
  const std::string header = frame::salted_segment_header(77, 0xfeedface12345678u);
  ASSERT_EQ(header.size(), frame::kSaltedHeaderSize);
  const auto parsed = frame::parse_segment_header(header + "frames");
  ASSERT_TRUE(parsed);
  EXPECT_TRUE(parsed->salted);
  EXPECT_EQ(parsed->first, 77u);
  EXPECT_EQ(parsed->size, frame::kSaltedHeaderSize);
  EXPECT_EQ(parsed->seed, frame::crc_seed(0xfeedface12345678u));
  EXPECT_NE(frame::crc_seed(1), frame::crc_seed(2));
  for (size_t bit = 0; bit < header.size() * 8; ++bit) {
    std::string damaged = header;
    damaged[bit / 8] = static_cast<char>(damaged[bit / 8] ^ (1 << (bit % 8)));
    EXPECT_FALSE(frame::parse_segment_header(damaged)) << bit;
  }
  const auto unsalted = frame::parse_segment_header(frame::file_header(frame::kSegmentMagic, 9));
  ASSERT_TRUE(unsalted);
  EXPECT_FALSE(unsalted->salted);
  EXPECT_EQ(unsalted->first, 9u);
  EXPECT_EQ(unsalted->seed, 0u);
  EXPECT_FALSE(frame::parse_segment_header(frame::file_header(frame::kSnapshotMagic, 9)));
}

TEST(Frame, AFrameIsValidOnlyUnderTheSeedItWasSealedWith) {
  std::string bytes;
  frame::append_unsealed(bytes, record::SessionDelete{"client"}, true);
  frame::seal(bytes, 5, frame::crc_seed(42));
  frame::Frame read;
  EXPECT_EQ(frame::Reader(bytes, frame::Reader::Check::crc, frame::crc_seed(42)).next(read),
            frame::ReadStatus::ok);
  EXPECT_EQ(frame::Reader(bytes, frame::Reader::Check::crc, frame::crc_seed(43)).next(read),
            frame::ReadStatus::corrupt);
  EXPECT_EQ(frame::Reader(bytes).next(read), frame::ReadStatus::corrupt);
  EXPECT_TRUE(frame::valid_frame_at(bytes, 0, frame::crc_seed(42), 5));
  EXPECT_FALSE(frame::valid_frame_at(bytes, 0, frame::crc_seed(42), 6)) << "an earlier sequence";
  EXPECT_FALSE(frame::valid_frame_at(bytes, 1, frame::crc_seed(42), 0));
  EXPECT_EQ(frame::sequence_at(bytes, 0), 5u);
  EXPECT_FALSE(frame::sequence_at(bytes, bytes.size() - 3));
}

TEST(Frame, FileHeadersAndNames) {
  const std::string header = frame::file_header(frame::kSegmentMagic, 123);
  EXPECT_EQ(header.size(), frame::kFileHeaderSize);
  EXPECT_EQ(frame::parse_file_header(header, frame::kSegmentMagic), 123u);
  EXPECT_FALSE(frame::parse_file_header(header, frame::kSnapshotMagic));
  std::string damaged = header;
  damaged[10] ^= 1;
  EXPECT_FALSE(frame::parse_file_header(damaged, frame::kSegmentMagic));
  EXPECT_EQ(frame::segment_name(5), "wal-00000000000000000005.log");
  EXPECT_EQ(frame::parse_segment_name("wal-00000000000000000005.log"), 5u);
  EXPECT_FALSE(frame::parse_segment_name("wal-00000000000000000005.log.corrupt-1"));
  EXPECT_FALSE(frame::parse_segment_name("wal-0000000000000000000x.log"));
}

}  // namespace
}  // namespace stellwerk::store

namespace stellwerk::store {
namespace {

// The broker's path encodes message_put straight from the session::Message;
// the bytes must be those of the MessagePut record (recovery decodes them as one).
TEST(MessagePutFromMessage, EncodesTheSameBytesAsTheRecord) {
  const TimeBase time = testing::fixed_time();
  for (bool with_properties : {false, true}) {
    const auto message = session::Message::create(
        "a/b/c", std::string(300, 'p'),
        {.qos = mqtt::QoS::exactly_once,
         .retain = true,
         .expires_at = time.steady + std::chrono::seconds(30),
         .properties =
             with_properties ? std::make_unique<mqtt::Properties>(testing::all_properties()) : nullptr});
    std::string direct, via_record;
    {
      coding::Writer writer(direct);
      frame::append_unsealed_as(writer, RecordType::message_put, [&](coding::Writer& payload) {
        encode_message_put(77, *message, time.to_wall(message->expires_at()), payload);
      });
    }
    const record::MessagePut put{77, message, time.to_wall(message->expires_at())};
    frame::append_unsealed(via_record, put, false);
    // Sealed, as the store writes them: unsealed, the CRC and sequence
    // fields hold whatever the buffer held.
    frame::seal(direct, 5);
    frame::seal(via_record, 5);
    EXPECT_EQ(direct, via_record);
  }
}

TEST(MessagePutFromMessage, ItsIdIsReadWithoutDecodingTheRest) {
  std::string payload;
  {
    coding::Writer writer(payload);
    encode_message_put(1ull << 40, *message_with_everything(), 0, writer);
  }
  EXPECT_EQ(message_put_id(payload), 1ull << 40);
  EXPECT_EQ(message_put_id(payload.substr(0, 3)), std::nullopt);
}

TEST(MessagePutFromMessage, RecordsCompareMessagesByContent) {
  const auto a = testing::make_message("t", "p", mqtt::QoS::at_least_once, false);
  const auto same = testing::make_message("t", "p", mqtt::QoS::at_least_once, false);
  const auto other = testing::make_message("t", "q", mqtt::QoS::at_least_once, false);
  EXPECT_EQ((record::MessagePut{1, a, 0}), (record::MessagePut{1, same, 0}));
  EXPECT_NE((record::MessagePut{1, a, 0}), (record::MessagePut{1, other, 0}));
  EXPECT_NE((record::MessagePut{1, a, 0}), (record::MessagePut{1, a, 5}));
}

}  // namespace
}  // namespace stellwerk::store

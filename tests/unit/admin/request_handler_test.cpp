// The admin protocol over a fake broker: every command's answer lines,
// chunking (how many messages each broker call covers), and that bad
// requests get an {"error": ...} line instead of an exception.
#include "admin/request_handler.h"

#include <gtest/gtest.h>

#include <fmt/format.h>

#include <map>
#include <thread>

#include "base/base64.h"
#include "admin/retained_json.h"

namespace stellwerk::admin {
namespace {

using nlohmann::json;

// Retained messages in a std::map (byte order, which is level order for the
// flat topics used here); records each call.
class FakePort final : public BrokerPort {
 public:
  std::vector<mqtt::Publish> retained_page(const RetainedQuery& query) override {
    limits.push_back(query.limit);
    std::vector<mqtt::Publish> page;
    auto it = query.after ? messages.upper_bound(*query.after) : messages.begin();
    for (; it != messages.end() && page.size() < query.limit; ++it) {
      if (query.filter && *query.filter != "#" && *query.filter != it->first) continue;
      mqtt::Publish message = it->second;
      if (!query.with_payload) message.payload.clear();
      page.push_back(std::move(message));
    }
    return page;
  }
  size_t clear_retained(const std::vector<std::string>& topics) override {
    clear_calls.push_back(topics.size());
    size_t cleared = 0;
    for (const std::string& topic : topics) cleared += messages.erase(topic);
    return cleared;
  }
  void set_retained(std::vector<mqtt::Publish> batch) override {
    set_calls.push_back(batch.size());
    for (mqtt::Publish& message : batch) messages[message.topic] = std::move(message);
  }
  bool wait_durable() override {
    ++durable_waits;
    return true;
  }
  void backup(std::string directory, BackupDone done) override {
    backups.push_back(directory);
    // As the store does: `done` runs later, on another thread.
    std::thread([done = std::move(done), ok = backup_ok] {
      done(ok ? Status<std::string>() : Status<std::string>(fail(std::string("disk full"))));
    }).detach();
  }

  void add(const std::string& topic, const std::string& payload = "p") {
    mqtt::Publish message;
    message.topic = topic;
    message.payload = payload;
    message.retain = true;
    messages[topic] = message;
  }

  std::map<std::string, mqtt::Publish> messages;
  std::vector<size_t> limits, clear_calls, set_calls;
  std::vector<std::string> backups;
  int durable_waits = 0;
  bool backup_ok = true;
};

class RequestHandlerTest : public ::testing::Test {
 protected:
  // The answer's lines, parsed; the last is the final one.
  std::vector<json> ask(const json& request) { return ask_raw(to_line(request)); }
  std::vector<json> ask_raw(std::string_view line) {
    std::vector<json> lines;
    handler.handle(line, [&](const std::string& text) {
      EXPECT_EQ(text.back(), '\n');
      lines.push_back(json::parse(text));
      return true;
    });
    EXPECT_FALSE(lines.empty());
    return lines;
  }
  std::string error_of(const json& request) {
    auto lines = ask(request);
    EXPECT_EQ(lines.size(), 1u);
    return lines.back().value("error", "");
  }
  void add_many(int count) {
    for (int i = 0; i < count; ++i) port.add(fmt::format("t{:03}", i));
  }

  FakePort port;
  RequestHandler handler{port, [] { return false; }, /*chunk=*/3};
};

TEST_F(RequestHandlerTest, CountPagesInChunks) {
  add_many(10);
  auto lines = ask({{"command", "retained.count"}});
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0], (json{{"ok", true}, {"count", 10}}));
  EXPECT_EQ(port.limits, (std::vector<size_t>{3, 3, 3, 3}));
}

TEST_F(RequestHandlerTest, ListStreamsTopicsAndSaysWhetherMoreFollow) {
  add_many(5);
  auto lines = ask({{"command", "retained.list"}, {"limit", 2}});
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[0], (json{{"topic", "t000"}}));
  EXPECT_EQ(lines[1], (json{{"topic", "t001"}}));
  EXPECT_EQ(lines[2], (json{{"ok", true}, {"count", 2}, {"more", true}}));
  lines = ask({{"command", "retained.list"}, {"after", "t002"}});
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[1], (json{{"topic", "t004"}}));
  EXPECT_EQ(lines[2], (json{{"ok", true}, {"count", 2}, {"more", false}}));
}

TEST_F(RequestHandlerTest, ListExactlyAtLimitHasNoMore) {
  add_many(3);
  auto lines = ask({{"command", "retained.list"}, {"limit", 3}});
  EXPECT_EQ(lines.back(), (json{{"ok", true}, {"count", 3}, {"more", false}}));
}

TEST_F(RequestHandlerTest, ShowAnswersOneMessageOrAnError) {
  port.add("t", "hello");
  auto lines = ask({{"command", "retained.show"}, {"topic", "t"}});
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0]["message"]["payload"], base64_encode("hello"));
  EXPECT_EQ(error_of({{"command", "retained.show"}, {"topic", "missing"}}), "no retained message on \"missing\"");
  EXPECT_NE(error_of({{"command", "retained.show"}, {"topic", "a/#"}}), "");
}

TEST_F(RequestHandlerTest, DeleteClearsInChunksThenWaitsForTheStore) {
  add_many(7);
  auto lines = ask({{"command", "retained.delete"}, {"filter", "#"}});
  EXPECT_EQ(lines.back(), (json{{"ok", true}, {"deleted", 7}}));
  EXPECT_EQ(port.clear_calls, (std::vector<size_t>{3, 3, 1}));
  EXPECT_TRUE(port.messages.empty());
  EXPECT_EQ(port.durable_waits, 1);
}

TEST_F(RequestHandlerTest, DeleteNeedsAFilterByName) {
  port.add("t");
  EXPECT_EQ(error_of({{"command", "retained.delete"}}), "retained.delete needs a \"filter\"");
  EXPECT_EQ(port.messages.size(), 1u);
}

TEST_F(RequestHandlerTest, ExportLinesImportBackIdentically) {
  mqtt::Publish message;
  message.topic = "dev/1";
  message.payload = std::string("\0\x01\xff", 3);
  message.qos = mqtt::QoS::at_least_once;
  message.retain = true;
  message.properties.content_type = "application/octet-stream";
  message.properties.correlation_data = std::string("\x00\x02", 2);
  message.properties.message_expiry_interval = 60;
  message.properties.payload_format_indicator = 0;
  message.properties.response_topic = "reply/1";
  message.properties.user_properties.emplace_back("k", "v");
  port.messages[message.topic] = message;
  auto lines = ask({{"command", "retained.export"}});
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[1], (json{{"ok", true}, {"count", 1}}));
  port.messages.clear();
  auto imported = ask({{"command", "retained.import"}, {"records", json::array({lines[0]})}});
  EXPECT_EQ(imported.back(), (json{{"ok", true}, {"imported", 1}}));
  EXPECT_EQ(port.messages.at("dev/1"), message);
}

TEST_F(RequestHandlerTest, ImportSetsInChunksAndIsAllOrNothing) {
  json records = json::array();
  for (int i = 0; i < 7; ++i) records.push_back(json{{"topic", fmt::format("t{}", i)}, {"payload", "eA=="}});
  EXPECT_EQ(ask({{"command", "retained.import"}, {"records", records}}).back()["imported"], 7);
  EXPECT_EQ(port.set_calls, (std::vector<size_t>{3, 3, 1}));
  records.push_back(json{{"topic", "bad/+"}, {"payload", "eA=="}});
  port.messages.clear();
  EXPECT_EQ(error_of({{"command", "retained.import"}, {"records", records}}),
            "record 8: \"topic\" must be a topic name without wildcards");
  EXPECT_TRUE(port.messages.empty());
}

TEST_F(RequestHandlerTest, ImportRejectsBadRecords) {
  const auto import_one = [&](json record) {
    return error_of({{"command", "retained.import"}, {"records", json::array({std::move(record)})}});
  };
  EXPECT_NE(import_one({{"topic", "t"}, {"payload", "not base64!"}}), "");
  EXPECT_NE(import_one({{"topic", "t"}, {"payload", "eA=="}, {"qos", 3}}), "");
  EXPECT_NE(import_one({{"topic", "t"}, {"payload", "eA=="}, {"qos", -1}}), "");
  EXPECT_NE(import_one({{"topic", "t"}, {"payload", "eA=="}, {"properties", {{"content_type", 5}}}}), "");
  EXPECT_NE(import_one({{"topic", "t"}, {"payload", "eA=="}, {"properties", {{"user_properties", {1, 2}}}}}), "");
  EXPECT_NE(import_one({{"topic", "$SYS/x"}, {"payload", "eA=="}}), "");
  EXPECT_NE(import_one({{"payload", "eA=="}}), "");
  EXPECT_NE(import_one("just a string"), "");
  EXPECT_TRUE(port.set_calls.empty());
}

TEST_F(RequestHandlerTest, BadRequestsGetErrorsNotExceptions) {
  EXPECT_EQ(ask_raw("{not json").back().value("error", ""), "a request is one JSON object");
  EXPECT_EQ(ask_raw("[1,2]").back().value("error", ""), "a request is one JSON object");
  EXPECT_NE(error_of({{"cmd", "x"}}), "");
  EXPECT_EQ(error_of({{"command", "reboot"}}), "unknown command \"reboot\"");
  EXPECT_NE(error_of({{"command", 7}}), "");
  EXPECT_NE(error_of({{"command", "retained.count"}, {"filter", 7}}), "");
  EXPECT_NE(error_of({{"command", "retained.count"}, {"filter", "a/#/b"}}), "");
  EXPECT_NE(error_of({{"command", "retained.count"}, {"filter", "$share/g/a"}}), "");
  EXPECT_NE(error_of({{"command", "retained.list"}, {"limit", -1}}), "");
  EXPECT_NE(error_of({{"command", "retained.list"}, {"limit", "5"}}), "");
  EXPECT_NE(error_of({{"command", "retained.list"}, {"after", 5}}), "");
  EXPECT_NE(error_of({{"command", "retained.import"}, {"records", "x"}}), "");
  EXPECT_NE(error_of({{"command", "backup"}, {"directory", "relative/dir"}}), "");
}

TEST_F(RequestHandlerTest, BackupWaitsForTheStoreThread) {
  EXPECT_EQ(ask({{"command", "backup"}, {"directory", "/b"}}).back(), (json{{"ok", true}, {"directory", "/b"}}));
  port.backup_ok = false;
  EXPECT_EQ(error_of({{"command", "backup"}, {"directory", "/c"}}), "backup failed: disk full");
  EXPECT_EQ(port.backups, (std::vector<std::string>{"/b", "/c"}));
}

TEST_F(RequestHandlerTest, PeerGoneStopsTheStream) {
  add_many(9);
  int written = 0;
  EXPECT_FALSE(handler.handle(to_line(json{{"command", "retained.export"}}), [&](const std::string&) {
    return ++written < 2;
  }));
  EXPECT_EQ(written, 2);
  EXPECT_EQ(port.limits.size(), 1u);  // no further chunk fetched
}

// A stored message holds at most a 65,535-byte topic (spec 1.5.4: a two-byte length): an
// import names no topic a client could not have published.
TEST(RetainedJson, TopicLongerThanAnyPublishIsRefused) {
  const std::string longest(0xFFFF, 't');
  EXPECT_TRUE(retained_from_json(json{{"topic", longest}, {"payload", ""}}).ok());
  EXPECT_FALSE(retained_from_json(json{{"topic", longest + "t"}, {"payload", ""}}).ok());
}

TEST(Base64, RoundTripsEveryLength) {
  std::string bytes;
  for (int i = 0; i < 20; ++i) {
    EXPECT_EQ(base64_decode_to_string(base64_encode(bytes)), bytes);
    bytes.push_back(static_cast<char>(i * 37));
  }
  EXPECT_EQ(base64_encode("hi"), "aGk=");
  EXPECT_EQ(base64_decode_to_string("aGk"), "hi");  // padding may be left out, as in RFC 4648 section 3.2
  EXPECT_FALSE(base64_decode_to_string("a*k="));
  EXPECT_FALSE(base64_decode_to_string("a=k="));
}

}  // namespace
}  // namespace stellwerk::admin

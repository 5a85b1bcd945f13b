// The admin commands over a BrokerPort. Every value read from a request is
// type-checked before use, and anything unexpected becomes an {"error": ...}
// line: a bad request must never take the broker down.
#include "admin/request_handler.h"

#include <fmt/format.h>

#include <chrono>
#include <future>
#include <memory>

#include "admin/retained_json.h"
#include "base/log.h"
#include "mqtt/validate.h"

namespace stellwerk::admin {
namespace {

using nlohmann::json;

constexpr auto kBackupTimeout = std::chrono::minutes(30);

bool answer_error(const RequestHandler::WriteLine& write, std::string_view message) {
  return write(to_line(json{{"error", message}}));
}

// The request's "filter": nullopt when absent (every stored topic), or the
// error to answer.
Result<std::optional<std::string>, std::string> read_filter(const json& request) {
  if (!request.contains("filter")) return std::optional<std::string>();
  const json& value = request["filter"];
  if (!value.is_string() || !mqtt::is_valid_topic_filter(value.get_ref<const std::string&>())) {
    return fail(std::string("\"filter\" must be a valid topic filter"));
  }
  if (mqtt::parse_shared_filter(value.get_ref<const std::string&>())) {
    return fail(std::string("shared subscription filters ($share/...) select no retained messages"));
  }
  return std::optional<std::string>(value.get<std::string>());
}

Result<RetainedQuery, std::string> read_query(const json& request) {
  auto filter = read_filter(request);
  if (!filter) return fail(filter.error());
  RetainedQuery query;
  query.filter = std::move(filter).value();
  if (request.contains("after")) {
    if (!request["after"].is_string()) return fail(std::string("\"after\" must be a topic"));
    query.after = request["after"].get<std::string>();
  }
  return query;
}

}  // namespace

RequestHandler::RequestHandler(BrokerPort& port, Stopping stopping, size_t chunk)
    : port_(port), stopping_(std::move(stopping)), chunk_(chunk == 0 ? 1 : chunk) {}

bool RequestHandler::handle(std::string_view line, const WriteLine& write) {
  const json request = json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (request.is_discarded() || !request.is_object()) return answer_error(write, "a request is one JSON object");
  if (!request.contains("command") || !request["command"].is_string()) {
    return answer_error(write, "the request names no \"command\"");
  }
  try {
    return dispatch(request, write);
  } catch (const std::exception& error) {
    // A safety net: every field is checked before use, so this is a bug.
    log::error("Admin request failed: {}", error.what());
    return answer_error(write, fmt::format("internal error: {}", error.what()));
  }
}

bool RequestHandler::dispatch(const json& request, const WriteLine& write) {
  const std::string& command = request["command"].get_ref<const std::string&>();
  if (command == "retained.count") return count(request, write);
  if (command == "retained.list") return list(request, write);
  if (command == "retained.show") return show(request, write);
  if (command == "retained.delete") return erase(request, write);
  if (command == "retained.export") return export_all(request, write);
  if (command == "retained.import") return import(request, write);
  if (command == "backup") return backup(request, write);
  return answer_error(write, fmt::format("unknown command \"{}\"", command));
}

template <typename Each>
void RequestHandler::for_each_page(RetainedQuery query, Each&& each) {
  for (;;) {
    std::vector<mqtt::Publish> page = port_.retained_page(query);
    if (page.empty() || !each(page)) return;
    if (page.size() < query.limit) return;
    query.after = page.back().topic;
  }
}

bool RequestHandler::count(const json& request, const WriteLine& write) {
  auto query = read_query(request);
  if (!query) return answer_error(write, query.error());
  query->limit = chunk_;
  query->with_payload = false;
  size_t total = 0;
  for_each_page(std::move(query).value(), [&](const std::vector<mqtt::Publish>& page) {
    total += page.size();
    return true;
  });
  return write(to_line(json{{"ok", true}, {"count", total}}));
}

bool RequestHandler::list(const json& request, const WriteLine& write) {
  auto query = read_query(request);
  if (!query) return answer_error(write, query.error());
  size_t wanted = SIZE_MAX;
  if (request.contains("limit")) {
    if (!request["limit"].is_number_unsigned()) return answer_error(write, "\"limit\" must be a positive integer");
    wanted = request["limit"].get<size_t>();
  }
  // One more than wanted is fetched, to tell whether more follow.
  query->limit = wanted < chunk_ ? wanted + 1 : chunk_;
  query->with_payload = false;
  size_t sent = 0;
  bool more = false;
  bool connected = true;
  for_each_page(std::move(query).value(), [&](const std::vector<mqtt::Publish>& page) {
    for (const mqtt::Publish& message : page) {
      if (sent == wanted) {
        more = true;
        return false;
      }
      connected = write(to_line(json{{"topic", message.topic}}));
      if (!connected) return false;
      ++sent;
    }
    return true;
  });
  if (!connected) return false;
  return write(to_line(json{{"ok", true}, {"count", sent}, {"more", more}}));
}

bool RequestHandler::show(const json& request, const WriteLine& write) {
  if (!request.contains("topic") || !request["topic"].is_string() ||
      !mqtt::is_valid_topic_name(request["topic"].get_ref<const std::string&>())) {
    return answer_error(write, "\"topic\" must be a topic name without wildcards");
  }
  RetainedQuery query;
  query.filter = request["topic"].get<std::string>();
  query.limit = 1;
  std::vector<mqtt::Publish> page = port_.retained_page(query);
  if (page.empty()) return answer_error(write, fmt::format("no retained message on \"{}\"", *query.filter));
  return write(to_line(json{{"ok", true}, {"message", retained_to_json(page.front())}}));
}

bool RequestHandler::erase(const json& request, const WriteLine& write) {
  // Deleting everything must be asked for by name ("#"), never by omission.
  if (!request.contains("filter")) return answer_error(write, "retained.delete needs a \"filter\"");
  auto query = read_query(request);
  if (!query) return answer_error(write, query.error());
  query->limit = chunk_;
  query->with_payload = false;
  size_t deleted = 0;
  for_each_page(std::move(query).value(), [&](const std::vector<mqtt::Publish>& page) {
    std::vector<std::string> topics;
    topics.reserve(page.size());
    for (const mqtt::Publish& message : page) topics.push_back(message.topic);
    deleted += port_.clear_retained(topics);
    return true;
  });
  if (!port_.wait_durable()) return answer_error(write, fmt::format("deleted {} but the store did not confirm", deleted));
  log::notice("Admin: deleted {} retained messages.", deleted);
  return write(to_line(json{{"ok", true}, {"deleted", deleted}}));
}

bool RequestHandler::export_all(const json& request, const WriteLine& write) {
  auto query = read_query(request);
  if (!query) return answer_error(write, query.error());
  query->limit = chunk_;
  size_t exported = 0;
  bool connected = true;
  for_each_page(std::move(query).value(), [&](const std::vector<mqtt::Publish>& page) {
    for (const mqtt::Publish& message : page) {
      connected = write(to_line(retained_to_json(message)));
      if (!connected) return false;
      ++exported;
    }
    return true;
  });
  if (!connected) return false;
  return write(to_line(json{{"ok", true}, {"count", exported}}));
}

bool RequestHandler::import(const json& request, const WriteLine& write) {
  if (!request.contains("records") || !request["records"].is_array()) {
    return answer_error(write, "\"records\" must be a list of retained messages");
  }
  // All records are checked before any is set: a request applies whole or not at all.
  std::vector<mqtt::Publish> messages;
  const json& records = request["records"];
  for (size_t i = 0; i < records.size(); ++i) {
    auto message = retained_from_json(records[i]);
    if (!message) return answer_error(write, fmt::format("record {}: {}", i + 1, message.error()));
    if (message->topic.starts_with("$SYS")) {
      return answer_error(write, fmt::format("record {}: $SYS topics belong to the broker", i + 1));
    }
    messages.push_back(std::move(message).value());
  }
  const size_t imported = messages.size();
  for (size_t begin = 0; begin < messages.size(); begin += chunk_) {
    const size_t end = std::min(messages.size(), begin + chunk_);
    port_.set_retained(std::vector<mqtt::Publish>(std::make_move_iterator(messages.begin() + begin),
                                                  std::make_move_iterator(messages.begin() + end)));
  }
  if (!port_.wait_durable()) return answer_error(write, "the store did not confirm the import");
  return write(to_line(json{{"ok", true}, {"imported", imported}}));
}

bool RequestHandler::backup(const json& request, const WriteLine& write) {
  if (!request.contains("directory") || !request["directory"].is_string() ||
      !request["directory"].get_ref<const std::string&>().starts_with('/')) {
    return answer_error(write, "\"directory\" must be an absolute path");
  }
  const std::string directory = request["directory"].get<std::string>();
  // Shared: `done` may run after this handler gave up waiting.
  auto outcome = std::make_shared<std::promise<Status<std::string>>>();
  std::future<Status<std::string>> result = outcome->get_future();
  port_.backup(directory, [outcome](Status<std::string> status) { outcome->set_value(std::move(status)); });
  const auto deadline = std::chrono::steady_clock::now() + kBackupTimeout;
  while (result.wait_for(std::chrono::milliseconds(100)) != std::future_status::ready) {
    if (stopping_() || std::chrono::steady_clock::now() > deadline) {
      return answer_error(write, "the broker stopped or the backup took too long; it may be incomplete");
    }
  }
  const Status<std::string> status = result.get();
  if (!status) return answer_error(write, fmt::format("backup failed: {}", status.error()));
  log::notice("Admin: online backup written to {}.", directory);
  return write(to_line(json{{"ok", true}, {"directory", directory}}));
}

}  // namespace stellwerk::admin

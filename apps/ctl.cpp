// `stellwerk ctl`: retained-state tools and online backup against a running
// broker, over the admin socket (src/admin; protocol in request_handler.h,
// user guide in docs/admin.md). The broker does the work in chunks; this
// tool only builds requests, streams answers to stdout and, for import,
// sends the input in chunks so that no request grows without bound.
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "admin/admin_client.h"
#include "base/base64.h"
#include "admin/retained_json.h"
#include "commands_ctl.h"
#include "mqtt/validate.h"

namespace {

using nlohmann::json;
using stellwerk::admin::AdminClient;

constexpr int kExitOk = 0;
constexpr int kExitFailed = 1;
constexpr int kExitUsage = 2;
constexpr const char* kDefaultSocket = "/run/stellwerk/admin.sock";
constexpr size_t kImportRecords = 1000;
constexpr size_t kImportBytes = 8u << 20;

struct CtlOptions {
  std::string socket;
  bool as_json = false;
  std::optional<std::string> limit;
  std::optional<std::string> after;
  std::vector<std::string> words;  // the command and its arguments
};

void print_usage(FILE* to) {
  std::fputs(
      "Usage: stellwerk ctl [--socket PATH] COMMAND\n"
      "  retained count [FILTER]                       how many retained messages match\n"
      "  retained list [FILTER] [--limit N] [--after TOPIC] [--json]\n"
      "                                                topics in order; page on with --after LAST\n"
      "  retained show TOPIC [--json]                  one retained message\n"
      "  retained delete FILTER                        delete every match (use '#' for all)\n"
      "  retained export [FILTER]                      JSON lines on stdout\n"
      "  retained import FILE|-                        set each exported line as retained\n"
      "  backup DIR                                    online backup a fresh broker can start from\n"
      "Without FILTER: every stored topic, '$' topics included. An explicit '#' matches as a\n"
      "subscription does, so it leaves out topics that start with '$'.\n"
      "--socket: the broker's admin_socket (default $STELLWERK_ADMIN_SOCKET, else\n"
      "/run/stellwerk/admin.sock).\n",
      to);
}

// Returns false (after saying why) on a usage error.
bool parse_options(int argc, char** argv, CtlOptions& options) {
  const char* from_env = std::getenv("STELLWERK_ADMIN_SOCKET");
  options.socket = from_env && *from_env ? from_env : kDefaultSocket;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    const bool takes_value = arg == "--socket" || arg == "--limit" || arg == "--after";
    if (takes_value && i + 1 >= argc) {
      std::fprintf(stderr, "Error: %s needs a value.\n", argv[i]);
      return false;
    }
    if (arg == "--socket") {
      options.socket = argv[++i];
    } else if (arg == "--limit") {
      options.limit = argv[++i];
    } else if (arg == "--after") {
      options.after = argv[++i];
    } else if (arg == "--json") {
      options.as_json = true;
    } else if (arg.starts_with("--") && arg != "--") {
      std::fprintf(stderr, "Error: unknown option %s.\n", argv[i]);
      return false;
    } else {
      options.words.emplace_back(arg);
    }
  }
  return true;
}

std::string json_text(const json& value) {
  std::string line = stellwerk::admin::to_line(value);
  line.pop_back();
  return line;
}

// Sends `request` and hands each data line to on_data; returns the final line
// or prints the error and returns nullopt.
template <typename OnData>
std::optional<json> ask(AdminClient& client, const json& request, OnData&& on_data) {
  if (auto sent = client.send(request); !sent) {
    std::fprintf(stderr, "Error: %s\n", sent.error().c_str());
    return std::nullopt;
  }
  for (;;) {
    auto line = client.read();
    if (!line) {
      std::fprintf(stderr, "Error: %s\n", line.error().c_str());
      return std::nullopt;
    }
    if (!stellwerk::admin::is_final(*line)) {
      on_data(*line);
      continue;
    }
    if (line->contains("error")) {
      const json& error = (*line)["error"];
      std::fprintf(stderr, "Error: %s\n", error.is_string() ? error.get<std::string>().c_str() : json_text(error).c_str());
      return std::nullopt;
    }
    return std::move(line).value();
  }
}

std::optional<json> ask(AdminClient& client, const json& request) {
  return ask(client, request, [](const json&) {});
}

json with_filter(json request, const std::vector<std::string>& words, size_t at) {
  if (words.size() > at) request["filter"] = words[at];
  return request;
}

int retained_count(AdminClient& client, const CtlOptions& options) {
  auto done = ask(client, with_filter({{"command", "retained.count"}}, options.words, 2));
  if (!done) return kExitFailed;
  std::printf("%s\n", json_text((*done)["count"]).c_str());
  return kExitOk;
}

int retained_list(AdminClient& client, const CtlOptions& options) {
  json request = with_filter({{"command", "retained.list"}}, options.words, 2);
  if (options.after) request["after"] = *options.after;
  if (options.limit) {
    char* end = nullptr;
    const unsigned long long limit = std::strtoull(options.limit->c_str(), &end, 10);
    if (options.limit->empty() || *end != '\0' || options.limit->starts_with('-')) {
      std::fprintf(stderr, "Error: --limit needs a number.\n");
      return kExitUsage;
    }
    request["limit"] = limit;
  }
  std::string last;
  auto done = ask(client, request, [&](const json& line) {
    last = line.value("topic", "");
    if (options.as_json) {
      std::cout << stellwerk::admin::to_line(line);
    } else {
      std::cout << last << '\n';
    }
  });
  if (!done) return kExitFailed;
  std::cout.flush();
  if (done->value("more", false)) std::fprintf(stderr, "More topics follow: --after '%s'\n", last.c_str());
  return kExitOk;
}

// Text shows as text; anything else (binary, control bytes) as base64.
bool printable(std::string_view payload) {
  if (!stellwerk::mqtt::is_valid_utf8(payload)) return false;
  for (const char c : payload) {
    if (static_cast<unsigned char>(c) < 0x20 && c != '\n' && c != '\t') return false;
  }
  return true;
}

void print_message(const json& message) {
  const std::string encoded = message.value("payload", "");
  const std::string payload = stellwerk::base64_decode_to_string(encoded).value_or("");
  std::cout << "topic: " << message.value("topic", "") << '\n';
  std::cout << "qos: " << message.value("qos", 0) << '\n';
  std::cout << "payload bytes: " << payload.size() << '\n';
  if (printable(payload)) {
    std::cout << "payload: " << payload << '\n';
  } else {
    std::cout << "payload (base64): " << encoded << '\n';
  }
  if (!message.contains("properties")) return;
  for (const auto& [key, value] : message["properties"].items()) {
    std::cout << key << ": " << json_text(value) << '\n';
  }
}

int retained_show(AdminClient& client, const CtlOptions& options) {
  if (options.words.size() != 3) {
    print_usage(stderr);
    return kExitUsage;
  }
  auto done = ask(client, {{"command", "retained.show"}, {"topic", options.words[2]}});
  if (!done) return kExitFailed;
  if (options.as_json) {
    std::cout << stellwerk::admin::to_line((*done)["message"]);
  } else {
    print_message((*done)["message"]);
  }
  return kExitOk;
}

int retained_delete(AdminClient& client, const CtlOptions& options) {
  if (options.words.size() != 3) {
    std::fprintf(stderr, "Error: retained delete needs a FILTER ('#' deletes every non-$ topic).\n");
    return kExitUsage;
  }
  auto done = ask(client, {{"command", "retained.delete"}, {"filter", options.words[2]}});
  if (!done) return kExitFailed;
  std::printf("deleted %s\n", json_text((*done)["deleted"]).c_str());
  return kExitOk;
}

int retained_export(AdminClient& client, const CtlOptions& options) {
  auto done = ask(client, with_filter({{"command", "retained.export"}}, options.words, 2),
                       [](const json& line) { std::cout << stellwerk::admin::to_line(line); });
  std::cout.flush();
  if (!done) return kExitFailed;
  std::fprintf(stderr, "exported %s retained messages\n", json_text((*done)["count"]).c_str());
  return kExitOk;
}

// Sends one chunk of import records; false (after saying why) on failure.
bool send_import_chunk(AdminClient& client, json& records, size_t first_line, size_t& imported) {
  if (records.empty()) return true;
  auto done = ask(client, {{"command", "retained.import"}, {"records", std::move(records)}});
  records = json::array();
  if (!done) {
    std::fprintf(stderr, "(in the chunk starting at input line %zu; earlier chunks were imported)\n", first_line);
    return false;
  }
  imported += done->value("imported", size_t{0});
  return true;
}

int import_stream(AdminClient& client, std::istream& input) {
  json records = json::array();
  size_t chunk_bytes = 0, line_number = 0, chunk_first_line = 1, imported = 0;
  std::string line;
  while (std::getline(input, line)) {
    ++line_number;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    json record = json::parse(line, nullptr, false);
    if (record.is_discarded()) {
      std::fprintf(stderr, "Error: input line %zu is not JSON; %zu imported before it.\n", line_number, imported);
      return kExitFailed;
    }
    if (records.empty()) chunk_first_line = line_number;
    records.push_back(std::move(record));
    chunk_bytes += line.size();
    if (records.size() >= kImportRecords || chunk_bytes >= kImportBytes) {
      if (!send_import_chunk(client, records, chunk_first_line, imported)) return kExitFailed;
      chunk_bytes = 0;
    }
  }
  if (!send_import_chunk(client, records, chunk_first_line, imported)) return kExitFailed;
  std::printf("imported %zu\n", imported);
  return kExitOk;
}

int retained_import(AdminClient& client, const CtlOptions& options) {
  if (options.words.size() != 3) {
    print_usage(stderr);
    return kExitUsage;
  }
  if (options.words[2] == "-") return import_stream(client, std::cin);
  std::ifstream file(options.words[2]);
  if (!file) {
    std::fprintf(stderr, "Error: cannot read %s.\n", options.words[2].c_str());
    return kExitFailed;
  }
  return import_stream(client, file);
}

int backup(AdminClient& client, const CtlOptions& options) {
  if (options.words.size() != 2) {
    print_usage(stderr);
    return kExitUsage;
  }
  // The broker resolves paths from its own working directory, not ours.
  const std::string directory = std::filesystem::absolute(options.words[1]).lexically_normal().string();
  auto done = ask(client, {{"command", "backup"}, {"directory", directory}});
  if (!done) return kExitFailed;
  std::printf("backup written to %s\n", directory.c_str());
  return kExitOk;
}

using Command = int (*)(AdminClient&, const CtlOptions&);

Command find_command(const std::vector<std::string>& words) {
  if (words.size() == 2 && words[0] == "backup") return backup;
  if (words.size() < 2 || words[0] != "retained") return nullptr;
  const std::string& verb = words[1];
  if (verb == "count" && words.size() <= 3) return retained_count;
  if (verb == "list" && words.size() <= 3) return retained_list;
  if (verb == "show") return retained_show;
  if (verb == "delete") return retained_delete;
  if (verb == "export" && words.size() <= 3) return retained_export;
  if (verb == "import") return retained_import;
  return nullptr;
}

}  // namespace

int run_ctl_command(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    if (std::string_view(argv[i]) == "--help" || std::string_view(argv[i]) == "-h") {
      print_usage(stdout);
      return kExitOk;
    }
  }
  CtlOptions options;
  if (!parse_options(argc, argv, options)) return kExitUsage;
  const Command command = find_command(options.words);
  if (command == nullptr) {
    print_usage(stderr);
    return kExitUsage;
  }
  auto client = AdminClient::connect(options.socket);
  if (!client) {
    std::fprintf(stderr, "Error: %s\n", client.error().c_str());
    return kExitFailed;
  }
  return command(client.value(), options);
}

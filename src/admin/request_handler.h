// The admin protocol: one JSON object per line in, JSON lines out.
//
// A request names a command ({"command":"retained.count","filter":"a/#"}).
// The answer is zero or more data lines (a topic, an exported message)
// followed by exactly one final line that holds "ok": true and a summary, or
// "error" and a message; data lines never hold either key, so a client reads
// until it sees one. Commands (docs/admin.md has the details):
//
//   retained.count   {filter?}                 -> {"ok":true,"count":N}
//   retained.list    {filter?,after?,limit?}   -> {"topic":T}...  {"ok":true,"count":N,"more":B}
//   retained.show    {topic}                   -> {"ok":true,"message":{...}}
//   retained.delete  {filter}                  -> {"ok":true,"deleted":N}
//   retained.export  {filter?}                 -> {message}...    {"ok":true,"count":N}
//   retained.import  {records:[{message}...]}  -> {"ok":true,"imported":N}
//   backup           {directory}               -> {"ok":true,"directory":D}
//
// Without "filter", retained commands cover every topic the broker keeps as
// state: all of "#" plus topics starting with '$', except $SYS. An explicit
// filter matches as a subscription's does, so "#" leaves '$' topics out.
// Long jobs go to the broker in chunks of `chunk` messages, one short
// broker-lock hold each, with the last topic seen as the cursor.
#pragma once

#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "admin/broker_port.h"

namespace stellwerk::admin {

class RequestHandler {
 public:
  // Writes one line (with its '\n'); false when the peer is gone.
  using WriteLine = std::function<bool(const std::string& line)>;
  // True once the server is stopping: a long wait gives up.
  using Stopping = std::function<bool()>;

  RequestHandler(BrokerPort& port, Stopping stopping, size_t chunk = 1000);

  // Answers one request line. Returns false when the peer went away while
  // the answer was being written.
  bool handle(std::string_view line, const WriteLine& write);

 private:
  using json = nlohmann::json;
  bool dispatch(const json& request, const WriteLine& write);
  bool count(const json& request, const WriteLine& write);
  bool list(const json& request, const WriteLine& write);
  bool show(const json& request, const WriteLine& write);
  bool erase(const json& request, const WriteLine& write);
  bool export_all(const json& request, const WriteLine& write);
  bool import(const json& request, const WriteLine& write);
  bool backup(const json& request, const WriteLine& write);

  // Calls each(page) for every chunk `query` selects; stops early when
  // each returns false.
  template <typename Each>
  void for_each_page(RetainedQuery query, Each&& each);

  BrokerPort& port_;
  Stopping stopping_;
  size_t chunk_;
};

}  // namespace stellwerk::admin

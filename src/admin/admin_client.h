// The client end of the admin socket, for `stellwerk ctl`: sends a request
// line and reads the answer's lines back (protocol: request_handler.h).
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "base/result.h"

namespace stellwerk::admin {

class AdminClient {
 public:
  static Result<AdminClient, std::string> connect(const std::string& path);
  AdminClient(AdminClient&& other) noexcept;
  AdminClient& operator=(AdminClient&&) = delete;
  ~AdminClient();

  Status<std::string> send(const nlohmann::json& request);
  // The next line of the answer, parsed; an error when the broker closed
  // the connection or sent something that is not JSON.
  Result<nlohmann::json, std::string> read();

 private:
  explicit AdminClient(int fd) : fd_(fd) {}
  int fd_;
  std::string buffer_;
};

// True for the line that ends an answer ({"ok":...} or {"error":...}).
bool is_final(const nlohmann::json& line);

}  // namespace stellwerk::admin

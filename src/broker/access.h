// The broker's view of authentication and authorisation. The server
// implements it on top of src/auth (password file, ACL file); the broker only
// asks questions. Without an AccessControl every client and topic is allowed.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace stellwerk::broker {

// Views into the client's or session's own strings, valid for one call:
// reads are checked on every delivery, so asking must not copy.
struct ClientIdentity {
  std::string_view client_id;
  std::optional<std::string_view> username;
};

// One MQTT 5 enhanced authentication exchange (v5 section 4.12): the
// broker carries the client's Authentication Data in, and the answer out, in
// CONNECT / AUTH / CONNACK packets; what the data means is the method's
// business. A step must be cheap: it runs on the event loop.
class AuthExchange {
 public:
  enum class Outcome { proceed, success, failure };  // proceed: AUTH 0x18 goes back
  struct Step {
    Outcome outcome = Outcome::failure;
    std::string server_data;  // for the client's next Authentication Data; may be empty
    std::string username;     // on success: who the client proved to be
  };
  virtual ~AuthExchange() = default;
  virtual Step step(std::string_view client_data) = 0;
};

class AccessControl {
 public:
  virtual ~AccessControl() = default;
  // Whether the client may connect. A verdict may take time (a strong
  // password hash costs tens of milliseconds, and must not run on an event
  // loop): nullopt means "pending", and the server later calls
  // Broker::complete_authentication(connection, verdict).
  virtual std::optional<bool> authenticate(uint64_t connection, const ClientIdentity& identity,
                                           const std::optional<std::string>& password) = 0;
  virtual bool can_publish(const ClientIdentity& identity, std::string_view topic) const = 0;
  virtual bool can_subscribe(const ClientIdentity& identity, std::string_view filter) const = 0;
  virtual bool can_read(const ClientIdentity& identity, std::string_view topic) const = 0;
  // A new exchange for the Authentication Method `method`, or null when the
  // method is not offered. Each (re-)authentication gets its own.
  virtual std::unique_ptr<AuthExchange> start_exchange(std::string_view method) {
    (void)method;
    return nullptr;
  }
};

}  // namespace stellwerk::broker

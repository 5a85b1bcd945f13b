// The broker's view of authentication and authorisation. The server
// implements it on top of src/auth (password file, ACL file); the broker only
// asks questions. Without an AccessControl every client and topic is allowed.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace stellwerk::broker {

struct ClientIdentity {
  std::string client_id;
  std::optional<std::string> username;
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
};

}  // namespace stellwerk::broker

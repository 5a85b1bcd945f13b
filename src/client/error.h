// Errors of the client library: one value type for every way a client
// operation can fail, with a message a person can read as it is.
//
// `kind` lets a caller (the CLI tools) choose an exit code without parsing the
// message; `reason` carries the MQTT reason code when the server sent one.
#pragma once

#include <optional>
#include <string>
#include <utility>

#include "base/result.h"
#include "mqtt/reason_code.h"

namespace stellwerk::client {

enum class ErrorKind {
  usage,     // the caller asked for something invalid (bad topic, QoS above the server's)
  network,   // name resolution, TCP connect, send or receive failed
  refused,   // CONNACK with a failure code
  protocol,  // the server broke the protocol (malformed packet, unexpected packet)
  closed,    // the server closed the connection or sent DISCONNECT
  timeout,   // no answer in time (CONNACK, SUBACK, PINGRESP)
  rejected,  // the server refused one operation (failed PUBACK, SUBACK, UNSUBACK code)
};

struct ClientError {
  ErrorKind kind = ErrorKind::protocol;
  std::string message;
  std::optional<mqtt::ReasonCode> reason;
};

template <typename T>
using ClientResult = Result<T, ClientError>;
using ClientStatus = Status<ClientError>;

inline Unexpected<ClientError> client_error(ErrorKind kind, std::string message,
                                            std::optional<mqtt::ReasonCode> reason = {}) {
  return fail(ClientError{kind, std::move(message), reason});
}

// "not authorized": the spec's name for the code, in lower case.
std::string reason_name(mqtt::ReasonCode reason);
// "not authorized (0x87)": the name, then the code.
std::string describe_reason(mqtt::ReasonCode reason);

}  // namespace stellwerk::client

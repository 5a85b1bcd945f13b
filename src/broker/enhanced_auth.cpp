// MQTT 5 enhanced authentication (v5 section 4.12) and re-authentication
// (4.12.1). The broker only carries Authentication Data between the client
// and an AuthExchange from AccessControl; what the data means (SCRAM, say)
// is the exchange's business, so the broker stays free of src/auth.
//
// Initial exchange: CONNECT names the method -> step(data) -> AUTH 0x18 with
// the answer, as often as the method needs -> CONNACK 0x00 carrying the
// method and the final data, with the user name the exchange proved. The
// CONNECT is held in the meantime; the CONNECT timeout covers the whole
// exchange. Any failure is CONNACK 0x87 (Not authorized) and a close: the
// exchange, not the CONNECT's User Name and Password fields, failed, and
// DISCONNECT, the packet a failed re-authentication needs, has no 0x86.
//
// Re-authentication: AUTH 0x19 on a connected client starts a new exchange
// with the same method; other packets keep flowing meanwhile under the old
// authentication. It ends with AUTH 0x00, or DISCONNECT 0x87 and a close.
// The proven user must stay the same: the session, its ACL and its log
// lines belong to that name.
#include <fmt/format.h>

#include "base/log.h"
#include "broker/broker.h"
#include "broker/client.h"

namespace stellwerk::broker {

using mqtt::ReasonCode;

void Broker::begin_enhanced_auth(Client& client, mqtt::Connect&& connect, TimePoint now) {
  const std::string& method = *connect.properties.authentication_method;
  std::unique_ptr<AuthExchange> exchange = access_ ? access_->start_exchange(method) : nullptr;
  if (!exchange) {
    // [MQTT-4.12.0-1]
    refuse_connect(
        client, connect.version, ReasonCode::bad_authentication_method,
        fmt::format("client id '{}' asked for authentication method '{}'", connect.client_id, method));
    return;
  }
  client.auth_method = method;
  client.auth_exchange = std::move(exchange);
  const std::string data = connect.properties.authentication_data.value_or(std::string());
  client.authenticating_connect = std::move(connect);
  continue_connect_exchange(client, data, now);
}

void Broker::continue_connect_exchange(Client& client, std::string_view client_data, TimePoint now) {
  AuthExchange::Step step = client.auth_exchange->step(client_data);
  if (step.outcome == AuthExchange::Outcome::proceed) {
    send_auth(client, ReasonCode::continue_authentication, std::move(step.server_data));  // [MQTT-4.12.0-2]
    return;
  }
  client.auth_exchange.reset();
  const std::string& client_id = client.authenticating_connect->client_id;
  if (step.outcome == AuthExchange::Outcome::failure) {
    refuse_authentication(
        client, ReasonCode::not_authorized, std::move(step.server_data),
        fmt::format("client id '{}' failed {} authentication", client_id, *client.auth_method));
    return;
  }
  const std::optional<std::string>& claimed = client.authenticating_connect->username;
  if (claimed && *claimed != step.username) {
    refuse_authentication(client, ReasonCode::not_authorized, {},
                          fmt::format("client id '{}' authenticated as '{}' but named user '{}'", client_id,
                                      step.username, *claimed));
    return;
  }
  mqtt::Connect connect = std::move(*client.authenticating_connect);
  client.authenticating_connect.reset();
  connect.username = std::move(step.username);
  client.auth_success_data = std::move(step.server_data);
  finish_connect(client, std::move(connect), now);
}

void Broker::handle_auth(Client& client, const mqtt::Auth& auth, TimePoint now) {
  if (!client.auth_method) {
    fail_auth_protocol(client, "AUTH without an authentication method in CONNECT [MQTT-4.12.0-7]", now);
    return;
  }
  if (auth.properties.authentication_method != client.auth_method) {
    fail_auth_protocol(client, "AUTH with another authentication method [MQTT-4.12.0-5]", now);
    return;
  }
  const std::string data = auth.properties.authentication_data.value_or(std::string());
  if (client.authenticating_connect) {
    if (auth.reason != ReasonCode::continue_authentication) {
      fail_auth_protocol(client, "AUTH before CONNACK must continue the exchange [MQTT-4.12.0-3]", now);
      return;
    }
    continue_connect_exchange(client, data, now);
    return;
  }
  if (auth.reason == ReasonCode::re_authenticate) {
    if (client.auth_exchange) {
      fail_auth_protocol(client, "re-authentication started twice", now);
      return;
    }
    client.auth_exchange = access_ ? access_->start_exchange(*client.auth_method) : nullptr;
    if (!client.auth_exchange) {
      fail_connection(client, ReasonCode::not_authorized, "authentication method no longer offered", now);
      return;
    }
  } else if (auth.reason != ReasonCode::continue_authentication || !client.auth_exchange) {
    fail_auth_protocol(client, "AUTH outside a re-authentication [MQTT-4.12.1-1]", now);
    return;
  }
  continue_reauthentication(client, data, now);
}

void Broker::continue_reauthentication(Client& client, std::string_view client_data, TimePoint now) {
  AuthExchange::Step step = client.auth_exchange->step(client_data);
  if (step.outcome == AuthExchange::Outcome::proceed) {
    send_auth(client, ReasonCode::continue_authentication, std::move(step.server_data));
    return;
  }
  client.auth_exchange.reset();
  const std::optional<std::string>& current = client.session ? client.session->username() : std::nullopt;
  if (step.outcome == AuthExchange::Outcome::failure) {
    fail_connection(client, ReasonCode::not_authorized, "re-authentication failed [MQTT-4.12.1-2]", now);
    return;
  }
  if (current != step.username) {
    fail_connection(client, ReasonCode::not_authorized,
                    fmt::format("re-authentication as another user '{}'", step.username), now);
    return;
  }
  if (config_.connection_messages) log::info("Client {} re-authenticated.", client.client_id);
  send_auth(client, ReasonCode::success, std::move(step.server_data));
}

void Broker::refuse_authentication(Client& client, ReasonCode reason, std::string server_data,
                                   std::string_view why) {
  // The failure CONNACK may say why in the method's own terms (SCRAM's "e=").
  mqtt::Properties properties;
  properties.authentication_method = *client.auth_method;
  if (!server_data.empty()) properties.authentication_data = std::move(server_data);
  refuse_connect(client, mqtt::Version::v5, reason, why, std::move(properties));
}

void Broker::fail_auth_protocol(Client& client, std::string_view why, TimePoint now) {
  // Before CONNACK the answer to a protocol error is a CONNACK; after it, a DISCONNECT.
  if (client.authenticating_connect) {
    refuse_connect(client, mqtt::Version::v5, ReasonCode::protocol_error, why);
    return;
  }
  fail_connection(client, ReasonCode::protocol_error, why, now);
}

void Broker::send_auth(Client& client, ReasonCode reason, std::string server_data) {
  mqtt::Auth auth;
  auth.reason = reason;
  auth.properties.authentication_method = *client.auth_method;
  if (!server_data.empty()) auth.properties.authentication_data = std::move(server_data);
  send(client, std::move(auth));
}

}  // namespace stellwerk::broker

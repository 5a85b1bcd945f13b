// Connection and session lifecycle: CONNECT, takeover, DISCONNECT, wills,
// keep-alive and expiry deadlines. Routing lives in routing.cpp.
#include "broker/broker.h"

#include <variant>

#include "base/log.h"
#include "broker/client.h"
#include "mqtt/validate.h"
#include "store/store.h"

namespace stellwerk::broker {

using mqtt::ReasonCode;
using mqtt::Version;

Broker::Broker(BrokerConfig config, Outbox& outbox, TimePoint now, AccessControl* access)
    : config_(std::move(config)), outbox_(outbox), access_(access), started_at_(now), next_sys_at_(now) {}

Broker::~Broker() = default;

Broker::Client* Broker::find_client(ConnectionId id) {
  auto it = clients_.find(id);
  return it == clients_.end() ? nullptr : it->second.get();
}

session::Session* Broker::find_session(const std::string& client_id) { return sessions_.find(client_id); }

Broker::Client* Broker::online_client(const session::Session& session) {
  return session.online() ? find_client(session.connection()) : nullptr;
}

void Broker::OnlineSessions::attach(session::Session& session, ConnectionId connection) {
  if (!session.online()) ++online_;
  session.attach(connection);
}

void Broker::OnlineSessions::detach(session::Session& session) {
  if (session.online()) --online_;
  session.detach();
}

void Broker::on_open(ConnectionId id, std::string peer, TimePoint now) {
  auto [it, added] = clients_.emplace(id, std::make_unique<Client>(id, std::move(peer), config_.limits, now));
  file_connection_deadline(*it->second);
}

void Broker::set_transport_username(ConnectionId id, std::string username) {
  if (Client* client = find_client(id)) client->transport_username = std::move(username);
}

void Broker::on_data(ConnectionId id, std::span<const uint8_t> bytes, TimePoint now) {
  Client* client = find_client(id);
  if (!client) return;  // closed earlier in this turn; the rest of its bytes are moot
  stats_.bytes_received += bytes.size();
  client->protocol.feed(bytes);
  process_input(*client, now);
  commit_batch();
}

void Broker::process_input(Client& first, TimePoint now) {
  const ConnectionId id = first.id;
  Client* client = &first;
  mqtt::PublishFrame publish;  // reused: its properties are built only when a packet has any
  while (client->protocol.phase() != protocol::Phase::closed && !client->pending_connect) {
    if (auto ack = client->protocol.next_short_ack(now)) {
      ++stats_.packets_received;
      handle_ack(*client, *ack, now);
      client = find_client(id);
      if (!client) return;
      continue;
    }
    if (client->protocol.next_publish(now, publish)) {
      ++stats_.packets_received;
      handle_publish(*client, publish, now);
      client = find_client(id);
      if (!client) return;
      continue;
    }
    auto next = client->protocol.next_packet(now);
    if (!next) {
      const protocol::ProtocolError& failure = next.error();
      if (failure.refuse_connect) {
        refuse_connect(*client, failure.connack_version, failure.reason, failure.why);
      } else {
        fail_connection(*client, failure.reason, failure.why, now);
      }
      return;
    }
    if (!next.value()) return;
    ++stats_.packets_received;
    handle_packet(*client, std::move(*next.value()), now);
    client = find_client(id);  // a packet may end its own connection
    if (!client) return;
  }
}

void Broker::handle_packet(Client& client, mqtt::Packet&& packet, TimePoint now) {
  std::visit(
      [&](auto&& p) {
        using T = std::decay_t<decltype(p)>;
        if constexpr (std::is_same_v<T, mqtt::Connect>) {
          handle_connect(client, std::move(p), now);
        } else if constexpr (std::is_same_v<T, mqtt::Publish>) {
          mqtt::PublishFrame view{p.topic,  p.payload,  std::move(p.properties), p.qos, p.dup,
                                  p.retain, p.packet_id};
          handle_publish(client, view, now);
        } else if constexpr (std::is_same_v<T, mqtt::Ack>) {
          handle_ack(client, p, now);
        } else if constexpr (std::is_same_v<T, mqtt::Subscribe>) {
          handle_subscribe(client, std::move(p), now);
        } else if constexpr (std::is_same_v<T, mqtt::Unsubscribe>) {
          handle_unsubscribe(client, std::move(p));
        } else if constexpr (std::is_same_v<T, mqtt::Pingreq>) {
          send(client, mqtt::Pingresp{});
        } else if constexpr (std::is_same_v<T, mqtt::Disconnect>) {
          handle_disconnect(client, p, now);
        } else if constexpr (std::is_same_v<T, mqtt::Auth>) {
          handle_auth(client, p, now);
        }
      },
      std::move(packet));
}

// ---------------------------------------------------------------- CONNECT

std::optional<ReasonCode> Broker::check_connect(const mqtt::Connect& connect) const {
  const bool v5 = connect.version == Version::v5;
  // With enhanced authentication the user name comes out of the exchange.
  const bool enhanced_auth = v5 && connect.properties.authentication_method;
  if (connect.client_id.empty()) {
    // 3.1 has no empty ids; 3.1.1 only with a clean session [MQTT-3.1.3-8].
    if (connect.version == Version::v31) return ReasonCode::client_identifier_not_valid;
    if (connect.version == Version::v311 && !connect.clean_start)
      return ReasonCode::client_identifier_not_valid;
  }
  if (connect.version == Version::v31 && connect.client_id.size() > 23) {
    return ReasonCode::client_identifier_not_valid;
  }
  if (!connect.username && !enhanced_auth && !config_.allow_anonymous) return ReasonCode::not_authorized;
  if (connect.will) {
    if (!mqtt::is_valid_topic_name(connect.will->topic)) return ReasonCode::topic_name_invalid;
    if (connect.will->topic.starts_with("$SYS")) return ReasonCode::not_authorized;
    if (connect.will->retain && !config_.retain_available) return ReasonCode::retain_not_supported;
  }
  // mosquitto refuses 3.1.x clients whose keep-alive exceeds max_keepalive;
  // v5 clients are told the server's value instead.
  const bool keep_alive_too_long = config_.max_keepalive < 65535 &&
                                   (connect.keep_alive > config_.max_keepalive || connect.keep_alive == 0);
  if (!v5 && keep_alive_too_long) return ReasonCode::client_identifier_not_valid;
  return std::nullopt;
}

uint16_t Broker::effective_keep_alive(const mqtt::Connect& connect) const {
  if (config_.max_keepalive < 65535 &&
      (connect.keep_alive > config_.max_keepalive || connect.keep_alive == 0)) {
    return config_.max_keepalive;
  }
  return connect.keep_alive;
}

std::string Broker::assign_client_id() {
  // Unique for this process; the counter part keeps it readable in logs.
  return fmt::format("auto-{:x}-{}", static_cast<uint64_t>(started_at_.time_since_epoch().count()),
                     next_assigned_id_++);
}

void Broker::handle_connect(Client& client, mqtt::Connect&& connect, TimePoint now) {
  if (auto refusal = check_connect(connect)) {
    refuse_connect(client, connect.version, *refusal,
                   fmt::format("client id '{}' refused", connect.client_id));
    return;
  }
  if (connect.client_id.empty()) {
    connect.client_id = assign_client_id();
    client.id_assigned = true;
  }
  client.client_id = connect.client_id;
  if (client.transport_username) connect.username = *client.transport_username;
  if (connect.version == Version::v5 && connect.properties.authentication_method) {
    begin_enhanced_auth(client, std::move(connect), now);
    return;
  }
  std::optional<bool> verdict = true;
  if (access_ && !client.transport_username) {
    verdict = access_->authenticate(client.id, ClientIdentity{connect.client_id, connect.username},
                                    connect.password);
  }
  if (!verdict) {
    client.pending_connect = std::move(connect);  // answered by complete_authentication()
    return;
  }
  if (!*verdict) {
    refuse_connect(client, connect.version, ReasonCode::bad_user_name_or_password,
                   fmt::format("client id '{}' failed authentication", connect.client_id));
    return;
  }
  finish_connect(client, std::move(connect), now);
}

void Broker::complete_authentication(ConnectionId id, bool accepted, TimePoint now) {
  Client* client = find_client(id);
  if (!client || !client->pending_connect) return;  // gone while the check ran
  mqtt::Connect connect = std::move(*client->pending_connect);
  client->pending_connect.reset();
  if (!accepted) {
    refuse_connect(*client, connect.version, ReasonCode::bad_user_name_or_password,
                   fmt::format("client id '{}' failed authentication", connect.client_id));
    commit_batch();
    return;
  }
  finish_connect(*client, std::move(connect), now);
  if (Client* still = find_client(id)) process_input(*still, now);
  commit_batch();
}

void Broker::finish_connect(Client& client, mqtt::Connect&& connect, TimePoint now) {
  const uint16_t keep_alive = effective_keep_alive(connect);
  client.protocol.accept_connect(connect, keep_alive);
  file_connection_deadline(client);  // a short keep-alive ends sooner than the CONNECT timeout

  bool present = false;
  session::Session& session = attach_session(client, connect, present, now);
  session.set_username(connect.username);
  send_connack(client, connect, present, keep_alive, client.id_assigned);
  ++stats_.connections_total;
  stats_.clients_maximum = std::max<uint64_t>(stats_.clients_maximum, online_.size());
  if (config_.connection_messages) {
    log::notice("New client connected from {} as {} (v{}, c{}, k{}{}).", client.peer, client.client_id,
                static_cast<int>(connect.version), connect.clean_start ? 1 : 0, keep_alive,
                connect.username ? ", u'" + *connect.username + "'" : std::string());
  }
  if (present) resend_inflight(client, session, now);
  pump(session, now);
}

session::Session& Broker::attach_session(Client& client, const mqtt::Connect& connect, bool& present,
                                         TimePoint now) {
  session::Session* existing = find_session(connect.client_id);
  if (existing && existing->online()) {
    take_over(existing->connection(), now);
    existing = find_session(connect.client_id);  // the takeover may have ended it
  }
  if (existing && connect.clean_start) {
    end_session(*existing, now);
    existing = nullptr;
  }
  if (!existing) {
    auto fresh = std::make_unique<session::Session>(next_session_id_++, connect.client_id);
    existing = fresh.get();
    sessions_by_id_[existing->id()] = existing;
    sessions_.emplace(connect.client_id, std::move(fresh));
    present = false;
  } else {
    present = true;
  }
  session::Lifetime& lifetime = existing->lifetime();
  lifetime.expires_at.reset();
  lifetime.will_due_at.reset();  // a delayed will is cancelled by the reconnect [MQTT-3.1.3-9]
  lifetime.will = connect.will;
  if (connect.version == Version::v5) {
    lifetime.expiry_interval = connect.properties.session_expiry_interval.value_or(0);
  } else {
    lifetime.expiry_interval =
        connect.clean_start ? 0 : config_.persistent_client_expiration.value_or(session::Lifetime::kNever);
  }
  client.session = existing;
  online_.attach(*existing, client.id);
  record_session(*existing);
  return *existing;
}

void Broker::send_connack(Client& client, const mqtt::Connect& connect, bool present, uint16_t keep_alive,
                          bool id_assigned) {
  mqtt::Connack connack;
  connack.session_present = present;
  if (connect.version == Version::v5) {
    auto& props = connack.properties;
    if (id_assigned) props.assigned_client_identifier = connect.client_id;
    if (keep_alive != connect.keep_alive) props.server_keep_alive = keep_alive;
    props.topic_alias_maximum = config_.limits.topic_alias_maximum;
    props.maximum_packet_size = config_.limits.max_packet_size;
    if (config_.limits.receive_maximum != 65535) props.receive_maximum = config_.limits.receive_maximum;
    if (!config_.retain_available) props.retain_available = 0;
    // [MQTT-4.12.0-5] / [MQTT-4.12.0-6]: the method only when the CONNECT named one.
    if (client.auth_method) {
      props.authentication_method = *client.auth_method;
      if (client.auth_success_data && !client.auth_success_data->empty()) {
        props.authentication_data = std::move(*client.auth_success_data);
      }
      client.auth_success_data.reset();
    }
  }
  send(client, std::move(connack));
}

void Broker::refuse_connect(Client& client, Version version, ReasonCode reason, std::string_view why,
                            mqtt::Properties properties) {
  ++stats_.refused_connects;
  log::notice("Refused connection from {}: {} ({}).", client.peer, why, mqtt::reason_code_text(reason));
  mqtt::Connack connack;
  connack.reason = reason;
  connack.properties = std::move(properties);
  std::string bytes;
  // Answer in the version the client spoke; an unknown version gets the 3.1.1 form.
  mqtt::encode(connack, version, bytes);
  stats_.bytes_sent += bytes.size();
  outbox_.send(client.id, std::move(bytes), false);
  const ConnectionId id = client.id;
  outbox_.close(id);
  end_connection(id, false, TimePoint{});
}

// ---------------------------------------------------------------- endings

void Broker::handle_disconnect(Client& client, const mqtt::Disconnect& disconnect, TimePoint now) {
  session::Session* session = client.session;
  if (session && disconnect.properties.session_expiry_interval) {
    // [MQTT-3.14.2-2]: a session created with expiry 0 cannot be given one now.
    if (session->lifetime().expiry_interval == 0 && *disconnect.properties.session_expiry_interval != 0) {
      fail_connection(client, ReasonCode::protocol_error, "DISCONNECT sets expiry on a zero-expiry session",
                      now);
      return;
    }
    session->lifetime().expiry_interval = *disconnect.properties.session_expiry_interval;
  }
  const bool with_will = disconnect.reason == ReasonCode::disconnect_with_will;
  if (config_.connection_messages) {
    log::notice("Client {} disconnected ({}).", client.client_id, mqtt::reason_code_text(disconnect.reason));
  }
  const ConnectionId id = client.id;
  outbox_.close(id);
  end_connection(id, with_will, now);
}

void Broker::take_over(ConnectionId old_connection, TimePoint now) {
  Client* old = find_client(old_connection);
  if (!old) return;
  log::notice("Client {} already connected, closing old connection.", old->client_id);
  send_disconnect(*old, ReasonCode::session_taken_over, "session taken over");
  outbox_.close(old_connection);
  end_connection(old_connection, true, now);
}

void Broker::fail_connection(Client& client, ReasonCode reason, std::string_view why, TimePoint now) {
  ++stats_.protocol_errors;
  log::notice("Client {} from {} disconnected: {} ({}).",
              client.client_id.empty() ? "<unknown>" : client.client_id, client.peer, why,
              mqtt::reason_code_text(reason));
  if (client.protocol.phase() == protocol::Phase::connected) send_disconnect(client, reason, why);
  const ConnectionId id = client.id;
  outbox_.close(id);
  end_connection(id, true, now);
}

void Broker::on_close(ConnectionId id, std::string_view why, TimePoint now) {
  Client* client = find_client(id);
  if (!client) return;
  if (client->session && config_.connection_messages) {
    log::notice("Client {} closed its connection: {}.", client->client_id, why);
  }
  end_connection(id, true, now);
  commit_batch();
}

void Broker::end_connection(ConnectionId id, bool publish_will_now, TimePoint now) {
  auto it = clients_.find(id);
  if (it == clients_.end()) return;
  std::unique_ptr<Client> client = std::move(it.value());
  clients_.erase(it);
  client->protocol.mark_closed();
  if (client->session) detach_session(*client->session, publish_will_now, now);
}

void Broker::detach_session(session::Session& session, bool with_will, TimePoint now) {
  online_.detach(session);
  session.clear_retained_backlogs();  // not resumed on reconnect (retained_backlog.cpp)
  session::Lifetime& lifetime = session.lifetime();
  if (!with_will) lifetime.will.reset();
  if (lifetime.will) {
    const uint32_t delay = lifetime.will->properties.will_delay_interval.value_or(0);
    if (delay == 0) {
      publish_will(session, now);
    } else {
      lifetime.will_due_at = now + std::chrono::seconds(delay);
    }
  }
  if (lifetime.expiry_interval == 0) {
    end_session(session, now);
    return;
  }
  if (lifetime.expiry_interval != session::Lifetime::kNever) {
    lifetime.expires_at = now + std::chrono::seconds(lifetime.expiry_interval);
  }
  file_session_deadline(session);
  record_session(session);
}

void Broker::publish_will(session::Session& session, TimePoint now) {
  session::Lifetime& lifetime = session.lifetime();
  if (!lifetime.will) return;
  mqtt::Will will = std::move(*lifetime.will);
  lifetime.will.reset();
  lifetime.will_due_at.reset();
  route(session::make_message(will.topic, will.payload, will.qos, will.retain, &will.properties, now,
                              session.id()),
        now);
}

void Broker::end_session(session::Session& session, TimePoint now) {
  // The session ending publishes a will still waiting for its delay [MQTT-3.1.3-9].
  if (session.lifetime().will_due_at) publish_will(session, now);
  remove_subscriptions(session);
  if (store::Batch* records = batch()) records->delete_session(session.client_id());
  online_.detach(session);
  sessions_by_id_.erase(session.id());
  sessions_.erase(session);  // destroys it
}

void Broker::record_session(const session::Session& session) {
  store::Batch* records = batch();
  if (!records) return;
  if (!session.persistent()) {
    // A session that no longer outlives its connection leaves the store.
    records->delete_session(session.client_id());
    return;
  }
  // A clean start ended the old session (delete_session) before this one.
  records->put_session(session.client_id(), store::to_info(session.lifetime(), store::TimeBase::now()));
}

// ---------------------------------------------------------------- deadlines

void Broker::check_deadlines(TimePoint now) {
  expire_connections(now);
  expire_sessions(now);
}

void Broker::file_connection_deadline(Client& client) {
  if (auto due = client.protocol.deadline(config_.connect_timeout)) {
    connection_deadlines_.file(client.id, *due, client.deadline_filed);
  }
}

void Broker::expire_connections(TimePoint now) {
  std::vector<DeadlineQueue<ConnectionId>::Entry> due;
  connection_deadlines_.take_due(now, due);
  for (const auto& entry : due) {
    Client* client = find_client(entry.key);
    if (!client || client->deadline_filed != entry.due) continue;
    client->deadline_filed = kNotFiled;
    const auto real = client->protocol.deadline(config_.connect_timeout);
    if (!real) continue;
    if (*real > now) {  // packets came since it was filed
      connection_deadlines_.file(client->id, *real, client->deadline_filed);
      continue;
    }
    const bool connected = client->protocol.phase() == protocol::Phase::connected;
    const char* why = connected                        ? "keep-alive timeout"
                      : client->authenticating_connect ? "authentication not completed in time"
                                                       : "no CONNECT in time";
    fail_connection(*client, ReasonCode::keep_alive_timeout, why, now);
  }
  connection_deadlines_.compact(clients_.size(), [&](const auto& entry) {
    const Client* client = find_client(entry.key);
    return client && client->deadline_filed == entry.due;
  });
}

namespace {

std::optional<TimePoint> next_deadline(const session::Lifetime& lifetime) {
  if (lifetime.will_due_at && lifetime.expires_at)
    return std::min(*lifetime.will_due_at, *lifetime.expires_at);
  return lifetime.will_due_at ? lifetime.will_due_at : lifetime.expires_at;
}

}  // namespace

void Broker::file_session_deadline(const session::Session& session) {
  const auto due = next_deadline(session.lifetime());
  if (!due) return;
  auto [filed, added] = session_deadline_filed_.try_emplace(session.id(), kNotFiled);
  session_deadlines_.file(session.id(), *due, filed->second);
}

void Broker::expire_sessions(TimePoint now) {
  std::vector<DeadlineQueue<session::SessionId>::Entry> due;
  session_deadlines_.take_due(now, due);
  for (const auto& entry : due) {
    auto filed = session_deadline_filed_.find(entry.key);
    if (filed == session_deadline_filed_.end() || filed->second != entry.due) continue;
    session_deadline_filed_.erase(filed);
    auto found = sessions_by_id_.find(entry.key);
    if (found == sessions_by_id_.end()) continue;
    session::Session& session = *found->second;
    const session::Lifetime& lifetime = session.lifetime();
    if (lifetime.expires_at && *lifetime.expires_at <= now) {
      end_session(session, now);  // publishes a will still waiting [MQTT-3.1.3-9]
      continue;
    }
    if (lifetime.will_due_at && *lifetime.will_due_at <= now) {
      publish_will(session, now);
      // The will is gone: a restart must not find it waiting and send it again.
      record_session(session);
    }
    file_session_deadline(session);
  }
  session_deadlines_.compact(session_deadline_filed_.size(), [&](const auto& entry) {
    auto filed = session_deadline_filed_.find(entry.key);
    return filed != session_deadline_filed_.end() && filed->second == entry.due;
  });
}

void Broker::tick(TimePoint now) {
  check_deadlines(now);
  if (config_.sys_interval > 0 && now >= next_sys_at_) {
    publish_sys(now);
    next_sys_at_ = now + std::chrono::seconds(config_.sys_interval);
  }
  commit_batch();
}

void Broker::shutdown(TimePoint now) {
  std::vector<ConnectionId> ids;
  ids.reserve(clients_.size());
  for (auto& [id, client] : clients_) ids.push_back(id);
  for (ConnectionId id : ids) {
    Client* client = find_client(id);
    if (!client) continue;
    if (client->protocol.phase() == protocol::Phase::connected) {
      send_disconnect(*client, ReasonCode::server_shutting_down, "server shutting down");
    }
    outbox_.close(id);
    end_connection(id, false, now);
  }
  commit_batch();
}

// ---------------------------------------------------------------- output

void Broker::send(Client& client, mqtt::Packet packet) {
  std::string bytes;
  if (!client.protocol.encode(std::move(packet), bytes)) return;
  ++stats_.packets_sent;
  stats_.bytes_sent += bytes.size();
  outbox_.send(client.id, std::move(bytes), false);
}

void Broker::send_disconnect(Client& client, ReasonCode reason, std::string_view why) {
  // 3.1.x has no server DISCONNECT: the close alone says it.
  if (!client.protocol.is_v5()) return;
  mqtt::Disconnect disconnect;
  disconnect.reason = reason;
  if (!why.empty()) disconnect.properties.reason_string = std::string(why);
  send(client, std::move(disconnect));
}

}  // namespace stellwerk::broker

// SIGHUP (issue 5, point 6): the configuration, password and ACL files and
// TLS material are read again while every client stays connected. Everything
// is loaded first and applied only when all of it loaded, so a broken file
// leaves the broker exactly as it was. Open connections keep the TLS context
// they were accepted with; new ones get the new certificates.
#include <algorithm>
#include <latch>

#include "base/log.h"
#include "net/worker.h"
#include "server/broker_config.h"
#include "server/server.h"

namespace stellwerk::server {

namespace {

bool same_endpoint(const config::ListenerConfig& a, const config::ListenerConfig& b) {
  return a.port == b.port && a.bind_address == b.bind_address && a.protocol == b.protocol &&
         a.socket_domain == b.socket_domain;
}

const config::ListenerConfig* find_endpoint(const std::vector<config::ListenerConfig>& listeners,
                                            const config::ListenerConfig& wanted) {
  for (const config::ListenerConfig& listener : listeners) {
    if (same_endpoint(listener, wanted)) return &listener;
  }
  return nullptr;
}

// The settings a reload applies, copied from `next` onto `current`.
config::Config with_reloadable_settings(config::Config current, const config::Config& next) {
  current.password_file = next.password_file;
  current.acl_file = next.acl_file;
  current.psk_file = next.psk_file;
  current.allow_anonymous = next.allow_anonymous;
  current.connection_messages = next.connection_messages;
  current.max_keepalive = next.max_keepalive;
  current.persistent_client_expiration = next.persistent_client_expiration;
  current.sys_interval = next.sys_interval;
  current.listeners = next.listeners;  // listener changes are reported one by one
  current.max_connections = next.max_connections;
  return current;
}

}  // namespace

Status<std::string> Server::reload_transports(const config::Config& next,
                                              std::vector<std::shared_ptr<const net::TransportStack>>& stacks) {
  const std::vector<config::ListenerConfig> wanted = next.effective_listeners();
  for (const auto& listener : listeners_) {
    const config::ListenerConfig* match = find_endpoint(wanted, listener->source);
    if (!match) {
      log::warning("Reload: listener {} {} is no longer configured; it stays open until a restart.",
                   listener->source.protocol, listener->source.port);
      stacks.push_back(listener->transports);
      continue;
    }
    auto made = make_transports(*match, next.max_packet_size, next.psk_file);
    if (!made) return fail(fmt::format("listener {}: {}", match->port, made.error()));
    stacks.push_back(std::move(made).value());
  }
  for (const config::ListenerConfig& listener : wanted) {
    const bool open = std::any_of(listeners_.begin(), listeners_.end(),
                                  [&](const auto& entry) { return same_endpoint(entry->source, listener); });
    if (!open) {
      log::warning("Reload: new listener {} {} opens at the next restart.", listener.protocol, listener.port);
    }
  }
  return {};
}

Status<std::string> Server::reload() {
  auto report_failure = [](const std::string& why) -> Status<std::string> {
    log::error("Reload failed, the previous configuration stays in force: {}", why);
    return fail(why);
  };
  auto next = config_source_ ? config_source_() : Result<config::Config, std::string>(config_);
  if (!next) return report_failure(next.error());
  auto files = FileAccessControl::load_files(next->password_file, next->acl_file);
  if (!files) return report_failure(files.error());
  std::vector<std::shared_ptr<const net::TransportStack>> stacks;
  if (auto made = reload_transports(next.value(), stacks); !made) return report_failure(made.error());

  const std::vector<config::ListenerConfig> wanted = next->effective_listeners();
  {
    // Neither call sends anything, so there is no output to route.
    std::lock_guard lock(broker_mutex_);
    access_->replace(std::move(files).value());
    broker_->reconfigure(make_broker_config(next.value()));
    for (size_t i = 0; i < listeners_.size(); ++i) {
      Listener& listener = *listeners_[i];
      const config::ListenerConfig* match = find_endpoint(wanted, listener.source);
      if (!match) continue;
      listener.source = *match;
      listener.max_connections = match->max_connections;
      listener.identity_as_username = match->use_identity_as_username;
      listener.subject_as_username = match->use_subject_as_username;
      listener.transports = stacks[i];
    }
  }
  // Waited for, so that "Reloaded" in the log means that the next connection
  // gets the new certificates (under load a worker accepted one with the old
  // ones just after the message while its task still waited).
  auto applied_by_all = std::make_shared<std::latch>(static_cast<std::ptrdiff_t>(workers_.size()));
  for (auto& worker : workers_) {
    net::Worker* w = worker.get();
    w->post([this, w, stacks, applied_by_all] {
      for (size_t i = 0; i < listeners_.size(); ++i) w->set_listener_transports(listeners_[i]->fd, stacks[i]);
      applied_by_all->count_down();
    });
  }
  applied_by_all->wait();
  const config::Config applied = with_reloadable_settings(config_, next.value());
  if (!(applied == next.value())) {
    log::warning("Reload: changes to other settings (persistence, limits, threads, logging) take effect after a "
                 "restart.");
  }
  config_ = applied;
  ++counters_.reloads;
  log::notice("Reloaded the configuration: {} password file, {} ACL file, {} listener(s).",
              config_.password_file.empty() ? "no" : "the", config_.acl_file.empty() ? "no" : "the",
              listeners_.size());
  return {};
}

}  // namespace stellwerk::server

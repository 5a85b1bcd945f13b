// Config's derived views (local-only listeners, anonymous access), the
// command line port override and error formatting.
#include "config/config.h"

#include <fmt/format.h>

#include <algorithm>

#include "base/log.h"

namespace stellwerk::config {
namespace {

ListenerConfig loopback_listener(uint16_t port, const char* address, const char* domain,
                                 int64_t max_connections) {
  ListenerConfig listener;
  listener.port = port;
  listener.max_connections = max_connections;
  listener.bind_address = address;
  listener.socket_domain = domain;
  return listener;
}

}  // namespace

bool Config::listeners_configured() const { return !listeners.empty(); }

std::vector<ListenerConfig> Config::effective_listeners() const {
  if (listeners_configured()) return listeners;
  std::vector<uint16_t> ports = local_only_ports;
  if (ports.empty()) ports.push_back(kDefaultPort);
  std::vector<ListenerConfig> loopback;
  for (const uint16_t port : ports) {
    loopback.push_back(loopback_listener(port, "127.0.0.1", "ipv4", max_connections));
    loopback.push_back(loopback_listener(port, "::1", "ipv6", max_connections));
  }
  return loopback;
}

// mosquitto 2: a broker reachable only from this machine admits anonymous
// clients; once a listener opens it to the network, they must be allowed
// explicitly.
bool Config::effective_allow_anonymous() const {
  return allow_anonymous.value_or(!listeners_configured());
}

std::string ConfigError::to_string() const {
  std::string text = file;
  if (line > 0) text += fmt::format(":{}", line);
  text += ": ";
  if (!key.empty()) text += key + ": ";
  return text + message;
}

void apply_port_override(Config& config, uint16_t port) {
  if (config.listeners_configured()) {
    log::warning("-p {} ignored: the configuration defines listeners", port);
    return;
  }
  auto& ports = config.local_only_ports;
  if (std::find(ports.begin(), ports.end(), port) == ports.end()) ports.push_back(port);
}

}  // namespace stellwerk::config

// floor_relay: the least an MQTT broker can do per delivery through the
// socket API, to measure the floor that issue 3's "many slow clients"
// scenario sits on. It is not a broker: one thread, one epoll loop, exact
// topics only, QoS 0 and 1, no sessions, no checks beyond framing. A
// PUBLISH is forwarded as received (same bytes, same packet id) to the
// connections subscribed to its topic, a QoS 1 PUBLISH is acknowledged,
// PUBACKs from subscribers are dropped. What is left per delivery is what
// every broker pays: epoll_wait, read, and one write per receiving socket,
// with the kernel's loopback TCP underneath.
//   floor_relay -c CONFIG     (reads the port from a "listener PORT ..." line)
// Run by bench/compare beside Stellwerk and mosquitto in the slow pairs
// scenario of `stellwerk bench`.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace {

volatile std::sig_atomic_t stopping = 0;

struct Connection {
  int fd = -1;
  uint8_t version = 4;  // CONNECT's protocol level: 5 adds property lengths
  std::string input;
  std::string unwritten;  // what the socket did not take yet
};

class Relay {
 public:
  explicit Relay(int listener) : listener_(listener), epoll_(epoll_create1(EPOLL_CLOEXEC)) {
    watch(listener_, EPOLLIN);
  }

  void run() {
    std::vector<epoll_event> events(512);
    while (!stopping) {
      const int ready = epoll_wait(epoll_, events.data(), static_cast<int>(events.size()), 500);
      for (int i = 0; i < ready; ++i) handle(events[static_cast<size_t>(i)]);
    }
  }

 private:
  void watch(int fd, uint32_t events) {
    epoll_event event{.events = events, .data = {.fd = fd}};
    epoll_ctl(epoll_, EPOLL_CTL_ADD, fd, &event);
  }

  void handle(const epoll_event& event) {
    if (event.data.fd == listener_) return accept_all();
    auto found = connections_.find(event.data.fd);
    if (found == connections_.end()) return;
    Connection& connection = found->second;
    if (event.events & EPOLLOUT) flush(connection);
    if (event.events & (EPOLLIN | EPOLLHUP | EPOLLERR)) read_from(connection);
  }

  void accept_all() {
    while (true) {
      const int fd = accept4(listener_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0) return;
      const int one = 1;
      setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      connections_[fd].fd = fd;
      watch(fd, EPOLLIN);
    }
  }

  void read_from(Connection& connection) {
    char buffer[65536];
    const ssize_t got = read(connection.fd, buffer, sizeof buffer);
    if (got <= 0) {
      if (got < 0 && errno == EAGAIN) return;
      return close_connection(connection.fd);
    }
    connection.input.append(buffer, static_cast<size_t>(got));
    size_t used = 0;
    while (true) {
      const size_t length = frame_length(std::string_view(connection.input).substr(used));
      if (length == 0) break;
      if (!on_packet(connection, std::string_view(connection.input).substr(used, length))) {
        return close_connection(connection.fd);
      }
      used += length;
    }
    connection.input.erase(0, used);
  }

  // Length of the first whole packet in `bytes`, 0 if it is not all there.
  static size_t frame_length(std::string_view bytes) {
    size_t remaining = 0;
    for (size_t i = 1; i < bytes.size() && i <= 4; ++i) {
      const auto byte = static_cast<uint8_t>(bytes[i]);
      remaining |= static_cast<size_t>(byte & 0x7F) << (7 * (i - 1));
      if ((byte & 0x80) == 0) return bytes.size() >= 1 + i + remaining ? 1 + i + remaining : 0;
    }
    return 0;
  }

  static size_t header_length(std::string_view packet) {
    size_t i = 1;
    while (static_cast<uint8_t>(packet[i]) & 0x80) ++i;
    return i + 1;
  }

  static uint16_t u16(std::string_view bytes, size_t at) {
    return static_cast<uint16_t>(static_cast<uint8_t>(bytes[at]) << 8 | static_cast<uint8_t>(bytes[at + 1]));
  }

  // False: close the connection.
  bool on_packet(Connection& connection, std::string_view packet) {
    const std::string_view body = packet.substr(header_length(packet));
    switch (static_cast<uint8_t>(packet[0]) >> 4) {
      case 1: return on_connect(connection, body);
      case 3: return on_publish(connection, packet, body);
      case 4: return true;  // PUBACK of a forwarded PUBLISH
      case 8: return on_subscribe(connection, body);
      case 12: return send(connection, std::string_view("\xD0\x00", 2));
      default: return false;  // DISCONNECT and everything this relay does not do
    }
  }

  bool on_connect(Connection& connection, std::string_view body) {
    if (body.size() < 7) return false;
    connection.version = static_cast<uint8_t>(body[6]);  // after the protocol name "MQTT"
    if (connection.version == 5) return send(connection, std::string_view("\x20\x03\x00\x00\x00", 5));
    return send(connection, std::string_view("\x20\x02\x00\x00", 4));
  }

  bool on_subscribe(Connection& connection, std::string_view body) {
    if (body.size() < 2) return false;
    std::string answer = "\x90";
    std::string payload(body.substr(0, 2));  // packet id
    size_t at = 2;
    if (connection.version == 5) {
      at += 1 + static_cast<uint8_t>(body[2]);  // properties: one length byte is enough here
      payload.push_back('\0');
    }
    while (at + 2 < body.size()) {
      const uint16_t length = u16(body, at);
      if (at + 2 + length >= body.size()) return false;
      subscribers_[std::string(body.substr(at + 2, length))].push_back(connection.fd);
      payload.push_back(static_cast<char>(body[at + 2 + length] & 0x03));  // grant what was asked
      at += 3 + length;
    }
    answer.push_back(static_cast<char>(payload.size()));
    return send(connection, answer + payload);
  }

  bool on_publish(Connection& connection, std::string_view packet, std::string_view body) {
    if (body.size() < 2) return false;
    const uint16_t topic_length = u16(body, 0);
    if (body.size() < 2u + topic_length) return false;
    const int qos = (static_cast<uint8_t>(packet[0]) >> 1) & 0x03;
    auto found = subscribers_.find(std::string(body.substr(2, topic_length)));
    if (found != subscribers_.end()) {
      for (int fd : found->second) {
        auto subscriber = connections_.find(fd);
        if (subscriber != connections_.end()) send(subscriber->second, packet);
      }
    }
    if (qos == 0) return true;
    if (qos != 1 || body.size() < 4u + topic_length) return false;
    const char ack[4] = {0x40, 0x02, body[2 + topic_length], body[3 + topic_length]};
    return send(connection, std::string_view(ack, 4));
  }

  bool send(Connection& connection, std::string_view bytes) {
    if (!connection.unwritten.empty()) {
      connection.unwritten.append(bytes);
      return true;
    }
    const ssize_t wrote = write(connection.fd, bytes.data(), bytes.size());
    const size_t done = wrote > 0 ? static_cast<size_t>(wrote) : 0;
    if (wrote < 0 && errno != EAGAIN) return false;
    if (done < bytes.size()) {
      connection.unwritten.assign(bytes.substr(done));
      epoll_event event{.events = EPOLLIN | EPOLLOUT, .data = {.fd = connection.fd}};
      epoll_ctl(epoll_, EPOLL_CTL_MOD, connection.fd, &event);
    }
    return true;
  }

  void flush(Connection& connection) {
    const ssize_t wrote = write(connection.fd, connection.unwritten.data(), connection.unwritten.size());
    if (wrote > 0) connection.unwritten.erase(0, static_cast<size_t>(wrote));
    if (!connection.unwritten.empty()) return;
    epoll_event event{.events = EPOLLIN, .data = {.fd = connection.fd}};
    epoll_ctl(epoll_, EPOLL_CTL_MOD, connection.fd, &event);
  }

  void close_connection(int fd) {
    for (auto& [topic, fds] : subscribers_) std::erase(fds, fd);
    connections_.erase(fd);
    close(fd);
  }

  int listener_;
  int epoll_;
  std::unordered_map<int, Connection> connections_;
  std::unordered_map<std::string, std::vector<int>> subscribers_;
};

int port_from_config(const char* path) {
  std::ifstream config(path);
  std::string line;
  while (std::getline(config, line)) {
    std::istringstream words(line);
    std::string key;
    int port = 0;
    if (words >> key >> port && key == "listener") return port;
  }
  return 0;
}

int listen_on(int port) {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  const int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 || listen(fd, 4096) != 0) return -1;
  return fd;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3 || std::string_view(argv[1]) != "-c") {
    std::fprintf(stderr, "usage: floor_relay -c CONFIG (a file with a line 'listener PORT')\n");
    return 2;
  }
  const int port = port_from_config(argv[2]);
  const int listener = port > 0 ? listen_on(port) : -1;
  if (listener < 0) {
    std::fprintf(stderr, "floor_relay: cannot listen on the port in %s\n", argv[2]);
    return 1;
  }
  std::signal(SIGTERM, [](int) { stopping = 1; });
  std::signal(SIGINT, [](int) { stopping = 1; });
  std::signal(SIGPIPE, SIG_IGN);
  Relay(listener).run();
  return 0;
}

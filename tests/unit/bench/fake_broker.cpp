// The fake broker of the runner tests (see fake_broker.h).
#include "fake_broker.h"

#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <span>

#include "mqtt/codec.h"

namespace stellwerk::bench::testing {
namespace {

bool filter_matches(const std::string& filter, const std::string& topic) {
  if (filter == topic) return true;
  if (filter.size() < 2 || filter.compare(filter.size() - 2, 2, "/+") != 0) return false;
  const std::string prefix = filter.substr(0, filter.size() - 1);
  return topic.compare(0, prefix.size(), prefix) == 0 && topic.find('/', prefix.size()) == std::string::npos;
}

void write_all(int fd, const std::string& bytes) {
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::send(fd, bytes.data() + done, bytes.size() - done, MSG_NOSIGNAL);
    if (n <= 0) return;
    done += static_cast<size_t>(n);
  }
}

mqtt::QoS lower(mqtt::QoS a, mqtt::QoS b) { return static_cast<int>(a) < static_cast<int>(b) ? a : b; }

}  // namespace

FakeBroker::FakeBroker(Faults faults) : faults_(faults) {
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof address;
  ::bind(listen_fd_, reinterpret_cast<sockaddr*>(&address), length);
  ::listen(listen_fd_, 1024);
  ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&address), &length);
  port_ = ntohs(address.sin_port);
  (void)!::pipe(wake_fds_);
  thread_ = std::thread([this] { run(); });
}

FakeBroker::~FakeBroker() {
  (void)!::write(wake_fds_[1], "x", 1);
  thread_.join();
  for (auto& [fd, client] : clients_) ::close(fd);
  ::close(listen_fd_);
  ::close(wake_fds_[0]);
  ::close(wake_fds_[1]);
}

void FakeBroker::run() {
  while (true) {
    std::vector<pollfd> polled{{wake_fds_[0], POLLIN, 0}, {listen_fd_, POLLIN, 0}};
    for (auto& [fd, client] : clients_) polled.push_back({fd, POLLIN, 0});
    if (::poll(polled.data(), polled.size(), 1000) < 0) continue;
    if (polled[0].revents != 0) return;
    if (polled[1].revents != 0) accept_client();
    for (size_t i = 2; i < polled.size(); ++i) {
      if (polled[i].revents == 0) continue;
      auto it = clients_.find(polled[i].fd);
      if (it != clients_.end() && !read_client(it->second)) {
        ::close(it->first);
        clients_.erase(it);
      }
    }
  }
}

void FakeBroker::accept_client() {
  const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
  if (fd >= 0) clients_[fd].fd = fd;
}

// False when the client is gone.
bool FakeBroker::read_client(Client& client) {
  char buffer[65536];
  const ssize_t n = ::read(client.fd, buffer, sizeof buffer);
  if (n <= 0) return false;
  client.input.append(buffer, static_cast<size_t>(n));
  while (true) {
    std::span<const uint8_t> bytes(reinterpret_cast<const uint8_t*>(client.input.data()),
                                   client.input.size());
    const mqtt::FrameScan scan = mqtt::scan_frame(bytes);
    if (scan.status != mqtt::FrameStatus::complete) return scan.status == mqtt::FrameStatus::need_more;
    auto packet = mqtt::decode_packet(bytes.first(scan.header.total_size()), client.version);
    if (!packet) return false;
    client.input.erase(0, scan.header.total_size());
    handle(client, packet.value());
  }
}

void FakeBroker::handle(Client& client, mqtt::Packet& packet) {
  if (auto* connect = std::get_if<mqtt::Connect>(&packet)) {
    client.version = connect->version;
    return send(client, mqtt::Connack{});
  }
  if (auto* subscribe = std::get_if<mqtt::Subscribe>(&packet)) {
    mqtt::Suback suback;
    suback.packet_id = subscribe->packet_id;
    for (const auto& topic : subscribe->topics) {
      client.filters.emplace_back(topic.filter, topic.options.max_qos);
      suback.reasons.push_back(static_cast<mqtt::ReasonCode>(topic.options.max_qos));
    }
    return send(client, suback);
  }
  if (auto* publish = std::get_if<mqtt::Publish>(&packet)) {
    const auto ack_type =
        publish->qos == mqtt::QoS::exactly_once ? mqtt::PacketType::pubrec : mqtt::PacketType::puback;
    if (publish->qos != mqtt::QoS::at_most_once) send(client, mqtt::Ack{ack_type, publish->packet_id});
    return forward(*publish);
  }
  if (auto* ack = std::get_if<mqtt::Ack>(&packet)) {
    if (ack->type == mqtt::PacketType::pubrel)
      send(client, mqtt::Ack{mqtt::PacketType::pubcomp, ack->packet_id});
    if (ack->type == mqtt::PacketType::pubrec)
      send(client, mqtt::Ack{mqtt::PacketType::pubrel, ack->packet_id});
    return;
  }
  if (std::holds_alternative<mqtt::Pingreq>(packet)) send(client, mqtt::Pingresp{});
}

void FakeBroker::forward(const mqtt::Publish& publish) {
  for (auto& [fd, client] : clients_) {
    for (const auto& [filter, qos] : client.filters) {
      if (!filter_matches(filter, publish.topic)) continue;
      mqtt::Publish copy = publish;
      copy.qos = lower(publish.qos, qos);
      deliver(client, std::move(copy));
    }
  }
}

void FakeBroker::deliver(Client& client, mqtt::Publish publish) {
  const uint64_t n = ++forwarded_;
  if (publish.qos != mqtt::QoS::at_most_once) {
    publish.packet_id = client.next_packet_id;
    client.next_packet_id = client.next_packet_id == 65535 ? 1 : client.next_packet_id + 1;
  }
  if (faults_.drop_every != 0 && n % faults_.drop_every == 0) return;
  if (faults_.garble_every != 0 && n % faults_.garble_every == 0) {
    // PUBLISH, QoS 0, remaining length 3: a topic length of 0x00ff with one byte of topic.
    write_all(client.fd, std::string("\x30\x03\x00\xff\x61", 5));
    return;
  }
  if (faults_.swap_every != 0 && n % faults_.swap_every == 0 && !holding_) {
    holding_ = true;
    held_for_ = client.fd;
    held_ = std::move(publish);
    return;
  }
  send(client, publish);
  if (faults_.duplicate_every != 0 && n % faults_.duplicate_every == 0) send(client, publish);
  if (holding_ && held_for_ == client.fd) {
    holding_ = false;
    send(client, held_);
  }
}

void FakeBroker::send(Client& client, const mqtt::Packet& packet) {
  std::string bytes;
  mqtt::encode(packet, client.version, bytes);
  write_all(client.fd, bytes);
}

}  // namespace stellwerk::bench::testing

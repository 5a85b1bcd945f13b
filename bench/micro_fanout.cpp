// Micro-benchmark of the routing core: one PUBLISH fanned out to 1,000
// subscribers of one topic, driving stellwerk::broker::Broker directly (no
// sockets, no threads) with an Outbox that only counts. Items are
// deliveries. At QoS 1 each subscriber's PUBACK is fed back in the same
// iteration, so the figure includes the whole acknowledged flow.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <random>
#include <span>
#include <string>
#include <vector>

#include "base/log.h"
#include "broker/broker.h"
#include "mqtt/codec.h"

namespace {

namespace broker = stellwerk::broker;
namespace mqtt = stellwerk::mqtt;
using stellwerk::FakeClock;

constexpr broker::ConnectionId kPublisher = 1;
constexpr uint32_t kSubscribers = 1000;

std::span<const uint8_t> bytes_of(std::string_view text) {
  return {reinterpret_cast<const uint8_t*>(text.data()), text.size()};
}

std::string encoded(const mqtt::Packet& packet) {
  std::string out;
  mqtt::encode(packet, mqtt::Version::v311, out);
  return out;
}

// Counts what the broker sends and remembers the packet id of each QoS 1/2
// PUBLISH, so the benchmark can acknowledge it.
class CountingOutbox final : public broker::Outbox {
 public:
  void send(broker::ConnectionId id, std::string_view bytes, bool) override {
    ++packets;
    byte_count += bytes.size();
    const uint8_t first = static_cast<uint8_t>(bytes[0]);
    const bool acknowledged_publish = (first >> 4) == 3 && (first & 0x06) != 0;
    if (acknowledged_publish && id != kPublisher) to_acknowledge.push_back({id, packet_id_of(bytes)});
  }
  void close(broker::ConnectionId) override {}

  struct Pending {
    broker::ConnectionId connection;
    uint16_t packet_id;
  };
  uint64_t packets = 0;
  uint64_t byte_count = 0;
  std::vector<Pending> to_acknowledge;

 private:
  static uint16_t packet_id_of(std::string_view publish) {
    const size_t header = mqtt::scan_frame(bytes_of(publish)).header.header_size;
    const size_t topic_length =
        static_cast<uint8_t>(publish[header]) << 8 | static_cast<uint8_t>(publish[header + 1]);
    const size_t at = header + 2 + topic_length;
    return static_cast<uint16_t>(static_cast<uint8_t>(publish[at]) << 8 |
                                 static_cast<uint8_t>(publish[at + 1]));
  }
};

// In which order the subscribers subscribe. With more than one worker the
// SUBSCRIBEs reach the broker in another order than the CONNECTs did, so
// the broker's session ids do not follow the subscriber list's order.
enum class SubscribeOrder { as_connected, shuffled };

struct FanOut {
  FanOut(mqtt::QoS qos, SubscribeOrder order) : broker_(config(), outbox, clock.now()) {
    connect(kPublisher, "publisher");
    std::vector<broker::ConnectionId> subscribers;
    for (uint32_t s = 0; s < kSubscribers; ++s) {
      subscribers.push_back(100 + s);
      connect(subscribers.back(), "subscriber-" + std::to_string(s));
    }
    if (order == SubscribeOrder::shuffled)
      std::shuffle(subscribers.begin(), subscribers.end(), std::mt19937(7));
    for (const broker::ConnectionId id : subscribers) {
      mqtt::Subscribe subscribe;
      subscribe.packet_id = 1;
      subscribe.topics.push_back({"fan/out", mqtt::SubscriptionOptions{qos}});
      feed(id, encoded(subscribe));
    }
    outbox.packets = 0;
  }

  static broker::BrokerConfig config() {
    broker::BrokerConfig config;
    config.connection_messages = false;
    config.sys_interval = 0;
    return config;
  }

  void connect(broker::ConnectionId id, const std::string& client_id) {
    broker_.on_open(id, "bench", clock.now());
    mqtt::Connect connect;
    connect.client_id = client_id;
    feed(id, encoded(connect));
  }

  void feed(broker::ConnectionId id, const std::string& bytes) {
    broker_.on_data(id, bytes_of(bytes), clock.now());
  }

  void acknowledge_all() {
    mqtt::Ack puback;
    std::string bytes = encoded(puback);
    for (const CountingOutbox::Pending& pending : outbox.to_acknowledge) {
      bytes[2] = static_cast<char>(pending.packet_id >> 8);
      bytes[3] = static_cast<char>(pending.packet_id & 0xff);
      feed(pending.connection, bytes);
    }
    outbox.to_acknowledge.clear();
  }

  FakeClock clock;
  CountingOutbox outbox;
  broker::Broker broker_;
};

void fan_out_loop(benchmark::State& state, mqtt::QoS qos,
                  SubscribeOrder order = SubscribeOrder::as_connected) {
  stellwerk::log::set_min_level(stellwerk::log::Level::warning);
  FanOut fan_out(qos, order);
  mqtt::Publish publish;
  publish.topic = "fan/out";
  publish.qos = qos;
  publish.payload.assign(static_cast<size_t>(state.range(0)), 'x');
  uint16_t packet_id = 1;
  for (auto _ : state) {
    if (qos != mqtt::QoS::at_most_once)
      publish.packet_id = packet_id = packet_id == 65535 ? 1 : packet_id + 1;
    fan_out.feed(kPublisher, encoded(publish));
    fan_out.acknowledge_all();
  }
  state.SetItemsProcessed(state.iterations() * kSubscribers);
  state.counters["packets_out_per_publish"] = benchmark::Counter(static_cast<double>(fan_out.outbox.packets) /
                                                                 static_cast<double>(state.iterations()));
}

void BM_FanOut1000Qos0(benchmark::State& state) { fan_out_loop(state, mqtt::QoS::at_most_once); }
BENCHMARK(BM_FanOut1000Qos0)->Arg(64)->Arg(1024);

void BM_FanOut1000Qos0SubscribedShuffled(benchmark::State& state) {
  fan_out_loop(state, mqtt::QoS::at_most_once, SubscribeOrder::shuffled);
}
BENCHMARK(BM_FanOut1000Qos0SubscribedShuffled)->Arg(64);

void BM_FanOut1000Qos1(benchmark::State& state) { fan_out_loop(state, mqtt::QoS::at_least_once); }
BENCHMARK(BM_FanOut1000Qos1)->Arg(64)->Arg(1024);

}  // namespace

BENCHMARK_MAIN();

// Micro-benchmarks of the MQTT codec: framing and decoding what a broker
// reads most (PUBLISH, PUBACK, CONNECT) and encoding what it writes most.
// Arguments are payload sizes in bytes. Timings only; nothing is checked.
#include <benchmark/benchmark.h>

#include <span>
#include <string>

#include "mqtt/codec.h"

namespace {

namespace mqtt = stellwerk::mqtt;

mqtt::Publish sample_publish(size_t payload_size, mqtt::QoS qos) {
  mqtt::Publish publish;
  publish.topic = "site/17/device/4711/telemetry";
  publish.qos = qos;
  publish.packet_id = qos == mqtt::QoS::at_most_once ? 0 : 42;
  publish.payload.assign(payload_size, 'x');
  return publish;
}

std::string encoded(const mqtt::Packet& packet, mqtt::Version version) {
  std::string out;
  mqtt::encode(packet, version, out);
  return out;
}

std::span<const uint8_t> bytes_of(const std::string& text) {
  return {reinterpret_cast<const uint8_t*>(text.data()), text.size()};
}

void decode_loop(benchmark::State& state, const std::string& frame, mqtt::Version version) {
  for (auto _ : state) {
    const mqtt::FrameScan scan = mqtt::scan_frame(bytes_of(frame));
    auto packet = mqtt::decode_packet(bytes_of(frame).first(scan.header.total_size()), version);
    benchmark::DoNotOptimize(packet);
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(frame.size()));
}

void BM_DecodePublishV311(benchmark::State& state) {
  const auto payload = static_cast<size_t>(state.range(0));
  const auto qos = static_cast<mqtt::QoS>(state.range(1));
  decode_loop(state, encoded(sample_publish(payload, qos), mqtt::Version::v311), mqtt::Version::v311);
}
BENCHMARK(BM_DecodePublishV311)->ArgsProduct({{16, 256, 4096}, {0, 1}});

void BM_DecodePublishV5(benchmark::State& state) {
  mqtt::Publish publish = sample_publish(static_cast<size_t>(state.range(0)), mqtt::QoS::at_least_once);
  publish.properties.content_type = "application/json";
  publish.properties.user_properties.emplace_back("origin", "bench");
  decode_loop(state, encoded(publish, mqtt::Version::v5), mqtt::Version::v5);
}
BENCHMARK(BM_DecodePublishV5)->Arg(16)->Arg(256)->Arg(4096);

void BM_DecodePuback(benchmark::State& state) {
  mqtt::Ack ack;
  ack.packet_id = 42;
  decode_loop(state, encoded(ack, mqtt::Version::v311), mqtt::Version::v311);
}
BENCHMARK(BM_DecodePuback);

void BM_DecodeConnectV5(benchmark::State& state) {
  mqtt::Connect connect;
  connect.version = mqtt::Version::v5;
  connect.client_id = "sensor-000123";
  connect.username = "device";
  connect.password = "secret";
  connect.properties.session_expiry_interval = 3600;
  connect.properties.receive_maximum = 100;
  decode_loop(state, encoded(connect, mqtt::Version::v5), mqtt::Version::v5);
}
BENCHMARK(BM_DecodeConnectV5);

void BM_EncodePublish(benchmark::State& state) {
  const mqtt::Packet packet = sample_publish(static_cast<size_t>(state.range(0)), mqtt::QoS::at_least_once);
  const auto version = state.range(1) == 5 ? mqtt::Version::v5 : mqtt::Version::v311;
  std::string out;
  for (auto _ : state) {
    out.clear();  // keeps its capacity, as a connection's output buffer would
    mqtt::encode(packet, version, out);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(out.size()));
}
BENCHMARK(BM_EncodePublish)->ArgsProduct({{16, 256, 4096}, {4, 5}});

void BM_EncodePuback(benchmark::State& state) {
  mqtt::Ack ack;
  ack.packet_id = 42;
  const mqtt::Packet packet = ack;
  std::string out;
  for (auto _ : state) {
    out.clear();
    mqtt::encode(packet, mqtt::Version::v5, out);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_EncodePuback);

}  // namespace

BENCHMARK_MAIN();

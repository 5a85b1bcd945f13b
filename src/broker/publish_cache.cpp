#include "broker/publish_cache.h"

#include "mqtt/codec.h"

namespace stellwerk::broker {
namespace {

// The fixed header's length: one type byte and a variable byte integer.
size_t fixed_header_size(const std::string& bytes) {
  size_t size = 2;
  while (size < 5 && (static_cast<uint8_t>(bytes[size - 1]) & 0x80)) ++size;
  return size;
}

}  // namespace

void PublishCache::begin(const session::Message* message) {
  message_ = message;
  for (auto& by_id : forms_) {
    for (Form& form : by_id) form.made = false;
  }
}

const PublishCache::Form& PublishCache::form_for(const session::Message& message, bool v5, bool with_packet_id) {
  Form& form = forms_[v5][with_packet_id];
  if (form.made) return form;
  mqtt::PublishView publish;
  publish.topic = message.topic();
  publish.payload = message.payload();
  publish.qos = with_packet_id ? mqtt::QoS::at_least_once : mqtt::QoS::at_most_once;
  publish.packet_id = with_packet_id ? 1 : 0;
  if (v5) publish.properties = &message.properties();
  form.bytes.clear();
  mqtt::encode_publish(publish, v5 ? mqtt::Version::v5 : mqtt::Version::v311, form.bytes);
  form.packet_id_offset = fixed_header_size(form.bytes) + 2 + message.topic().size();
  form.made = true;
  return form;
}

bool PublishCache::append(const session::Message& message, bool v5, bool dup, mqtt::QoS qos, bool retain,
                          uint16_t packet_id, std::string& out) {
  if (&message != message_) return false;
  const bool with_packet_id = qos != mqtt::QoS::at_most_once;
  const Form& form = form_for(message, v5, with_packet_id);
  const size_t start = out.size();
  out += form.bytes;
  out[start] = static_cast<char>(0x30 | (dup ? 0x08 : 0) | (static_cast<uint8_t>(qos) << 1) | (retain ? 0x01 : 0));
  if (with_packet_id) {
    out[start + form.packet_id_offset] = static_cast<char>(packet_id >> 8);
    out[start + form.packet_id_offset + 1] = static_cast<char>(packet_id & 0xFF);
  }
  return true;
}

}  // namespace stellwerk::broker

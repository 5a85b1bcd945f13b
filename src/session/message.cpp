// One block per message: the header, then the topic bytes, then the payload
// bytes, allocated at the exact size and freed by the last MessagePtr.
#include "session/message.h"

#include <cassert>
#include <cstring>
#include <new>

#include "base/block_pool.h"

namespace stellwerk::session {

static_assert(sizeof(Message) == 32, "the header is what every stored message pays: keep it at 32 bytes");

namespace {

const mqtt::Properties& empty_properties() {
  static const mqtt::Properties none;
  return none;
}

// Properties worth keeping: none at all is the common case, and an empty
// set costs a heap block for nothing.
bool worth_keeping(const std::unique_ptr<mqtt::Properties>& properties) {
  return properties && *properties != empty_properties();
}

// Never destroyed: a message may outlive every static object (a thread
// still holding one at exit).
base::BlockPool& retained_pool() {
  static auto* pool = new base::BlockPool;
  return *pool;
}

// AddressSanitizer sees use after free only in blocks malloc hands out.
#if defined(__SANITIZE_ADDRESS__)
constexpr bool kPoolRetained = false;
#else
constexpr bool kPoolRetained = true;
#endif

}  // namespace

size_t Message::pool_reserved_bytes() { return retained_pool().reserved_bytes(); }

const mqtt::Properties& Message::no_properties() { return empty_properties(); }

Message::Message(std::string_view topic, std::string_view payload, MessageFields& fields, bool pooled)
    : payload_size_(static_cast<uint32_t>(payload.size())),
      qos_(static_cast<uint32_t>(fields.qos)),
      retain_(fields.retain ? 1 : 0),
      pooled_(pooled ? 1 : 0),
      topic_size_(static_cast<uint16_t>(topic.size())),
      publisher_session_(fields.publisher_session),
      extras_(nullptr) {
  if (fields.expires_at || worth_keeping(fields.properties)) {
    auto* extras = new Extras{.expires_at = fields.expires_at.value_or(kNoExpiry)};
    if (worth_keeping(fields.properties)) extras->properties = std::move(fields.properties);
    extras_ = extras;
  }
  // memcpy with a null source is undefined even for 0 bytes.
  if (!topic.empty()) std::memcpy(bytes(), topic.data(), topic.size());
  if (!payload.empty()) std::memcpy(bytes() + topic.size(), payload.data(), payload.size());
}

Message::~Message() { delete extras_; }

MessagePtr Message::create(std::string_view topic, std::string_view payload, MessageFields fields) {
  assert(topic.size() <= kMaxTopicSize && payload.size() <= kMaxPayloadSize);
  const size_t size = sizeof(Message) + topic.size() + payload.size();
  void* block = nullptr;
  if (kPoolRetained && fields.retain && size <= base::BlockPool::kMaxBlockSize) block = retained_pool().allocate(size);
  const bool pooled = block != nullptr;
  if (!pooled) block = ::operator new(size);
  return MessagePtr(new (block) Message(topic, payload, fields, pooled));
}

void Message::release(const Message* message) {
  // acq_rel: the last owner sees every other owner's reads finished before
  // it frees the block.
  if (message->references_.fetch_sub(1, std::memory_order_acq_rel) != 1) return;
  const bool pooled = message->pooled();
  message->~Message();
  if (pooled) retained_pool().release(const_cast<Message*>(message));
  else ::operator delete(const_cast<Message*>(message));
}

std::unique_ptr<mqtt::Properties> properties_if_any(mqtt::Properties&& properties) {
  if (properties == empty_properties()) return nullptr;
  return std::make_unique<mqtt::Properties>(std::move(properties));
}

MessagePtr make_message(std::string_view topic, std::string_view payload, mqtt::QoS qos, bool retain,
                        mqtt::Properties* properties, TimePoint now, uint64_t publisher_session) {
  MessageFields fields{.qos = qos, .retain = retain, .publisher_session = publisher_session};
  if (properties) {
    properties->topic_alias.reset();
    properties->subscription_identifiers.clear();
    properties->will_delay_interval.reset();
    if (properties->message_expiry_interval) {
      fields.expires_at = now + std::chrono::seconds(*properties->message_expiry_interval);
    }
    fields.properties = properties_if_any(std::move(*properties));
  }
  return Message::create(topic, payload, std::move(fields));
}

}  // namespace stellwerk::session

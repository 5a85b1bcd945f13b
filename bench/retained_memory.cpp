// Memory per retained message (issue 4: at most 64 bytes above topic and
// payload). Inserts N retained messages, built as the broker builds them
// (one shared session::Message each), into the broker's retained tree and
// reads the heap in use (mallinfo2) before and after; then the same for the
// store's mirror of them (store::State, on the snapshot thread when
// persistence is on); the store's message ids live in the messages.
//   retained_memory [N] [payload bytes]     (default 1000000, 32)
#include <fmt/format.h>
#include <malloc.h>

#include <cstdio>
#include <cstdlib>

#include "session/message.h"
#include "store/state.h"
#include "topics/retained_tree.h"

namespace session = stellwerk::session;
namespace store = stellwerk::store;

namespace {

// Large blocks (a hash table's bucket array) are mmap'ed by malloc and
// counted apart from the arena's; retained messages' blocks come from a pool
// of slabs mapped apart from malloc, counted whole, used or not.
size_t heap_in_use() {
  malloc_trim(0);
  const struct mallinfo2 info = mallinfo2();
  return info.uordblks + info.hblkhd + session::Message::pool_reserved_bytes();
}

std::string topic_of(size_t i) { return fmt::format("fleet/site-{:04}/device-{:07}/state", i % 1000, i); }

void report(const char* what, size_t bytes, size_t count, size_t topic_and_payload) {
  const double per = static_cast<double>(bytes) / static_cast<double>(count);
  std::printf("%-44s %9.1f B/message, %7.1f B above topic+payload (%zu B)\n", what, per,
              per - static_cast<double>(topic_and_payload), topic_and_payload);
}

}  // namespace

int main(int argc, char** argv) {
  const size_t count = argc > 1 ? std::strtoul(argv[1], nullptr, 10) : 1'000'000;
  const size_t payload_size = argc > 2 ? std::strtoul(argv[2], nullptr, 10) : 32;
  const size_t topic_and_payload = topic_of(0).size() + payload_size;
  std::printf("%zu retained messages, topic %zu B, payload %zu B; sizeof(session::Message) %zu, "
              "sizeof(mqtt::Properties) %zu\n",
              count, topic_of(0).size(), payload_size, sizeof(session::Message), sizeof(stellwerk::mqtt::Properties));

  size_t before = heap_in_use();
  std::vector<session::MessagePtr> messages;
  messages.reserve(count);
  for (size_t i = 0; i < count; ++i) {
    messages.push_back(session::Message::create(topic_of(i), std::string(payload_size, 'x'), {.retain = true}));
  }
  const size_t message_bytes = heap_in_use() - before - count * sizeof(session::MessagePtr);
  report("session::Message (one block)", message_bytes, count, topic_and_payload);

  before = heap_in_use();
  stellwerk::topics::RetainedTree<session::MessagePtr, stellwerk::topics::TopicOfPointee> tree;
  for (const auto& message : messages) tree.set(message->topic(), message);
  const size_t tree_bytes = heap_in_use() - before;
  report("RetainedTree nodes (levels, maps, pointer)", tree_bytes, count, 0);
  report("broker total: tree + Message", tree_bytes + message_bytes, count, topic_and_payload);

  // The store's id of each message lives in session::Message::store_id(),
  // in its header: no registry on the broker's side any more.
  std::printf("%-44s %9.1f B/message (in session::Message's header)\n", "store: message ids (broker thread)", 0.0);

  before = heap_in_use();
  {
    store::State state;
    const store::TimeBase time = store::TimeBase::now();
    for (size_t i = 0; i < count; ++i) {
      state.apply(store::record::MessagePut{i + 1, messages[i], time.to_wall(messages[i]->expires_at())});
      state.apply(store::record::RetainedSet{i + 1});
      state.end_batch();  // one batch per retained PUBLISH, as the broker writes them
    }
    // The mirror shares the broker's messages: what it adds is its own entries.
    report("store: State mirror (snapshot thread)", heap_in_use() - before, count, 0);
  }
  return 0;
}

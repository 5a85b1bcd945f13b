// Publishers: when each may send (its window, the broker's Receive Maximum,
// its rate), what it sends, and how a delivery frees room in its window.
//
// A publisher that may send sits in the ready list; one that waits for a due
// time sits in the due heap; one that waits for room sits nowhere and is put
// back by the delivery or acknowledgement that makes room. A ready publisher
// sends at most kBurst messages per turn, so a thousand publishers share the
// turn fairly and reads are not starved.
#include <algorithm>

#include "bench/runner.h"

namespace stellwerk::bench {
namespace {

constexpr int kBurst = 16;

uint64_t to_nanoseconds(TimePoint time) {
  return static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(time.time_since_epoch()).count());
}

}  // namespace

bool Runner::can_send(const Publisher& publisher) const {
  if (links_[publisher.link].state != LinkState::ready) return false;
  if (publisher.sent - publisher.oldest_pending >= options_.window) return false;
  if (options_.qos == mqtt::QoS::at_most_once) return true;
  const size_t unacknowledged = publisher.awaiting_ack.size() + publisher.awaiting_complete.size();
  return unacknowledged < std::min<uint32_t>(options_.window, publisher.send_quota);
}

void Runner::make_ready(uint32_t publisher) {
  if (publishers_[publisher].queued) return;
  publishers_[publisher].queued = true;
  ready_.push_back(publisher);
}

void Runner::pump_publishers() {
  if (phase_ != Phase::warmup && phase_ != Phase::measuring) return;
  while (!due_.empty() && due_.top().first <= now_) {
    ready_.push_back(due_.top().second);  // still marked queued
    due_.pop();
  }
  ready_batch_.swap(ready_);
  for (const uint32_t publisher : ready_batch_) {
    publishers_[publisher].queued = false;
    send_from(publisher);
  }
  ready_batch_.clear();
}

void Runner::send_from(uint32_t index) {
  Publisher& publisher = publishers_[index];
  for (int n = 0; n < kBurst; ++n) {
    if (!can_send(publisher)) return;  // a delivery or an acknowledgement makes it ready again
    TimePoint stamp_time = now_;
    if (send_interval_ > Duration::zero()) {
      if (publisher.next_due > now_) {
        publisher.queued = true;
        due_.emplace(publisher.next_due, index);
        return;
      }
      stamp_time = publisher.next_due;
      publisher.next_due += send_interval_;
    }
    emit(publisher, index, stamp_time);
  }
  make_ready(index);
}

void Runner::emit(Publisher& publisher, uint32_t index, TimePoint stamp_time) {
  const uint64_t sequence = publisher.sent++;
  publisher.pending[sequence & ring_mask_] = plan_.receivers_per_message();
  uint16_t packet_id = 0;
  if (options_.qos != mqtt::QoS::at_most_once) {
    packet_id = take_packet_id(publisher);
    publisher.awaiting_ack.push(packet_id);
  }
  Link& link = links_[publisher.link];
  publisher.message.append_to(link.output, Stamp{index, sequence, to_nanoseconds(stamp_time)}, packet_id);
  mark_dirty(link);
  ++counters_.published;
}

// Ids go round 1..65535. At most `window` (<= 32768) are in flight; an id
// could come round while still in use only if the broker left it
// unacknowledged while some 32,000 later ones completed, and the id queues
// would report that as an error.
uint16_t Runner::take_packet_id(Publisher& publisher) {
  const uint16_t id = publisher.next_packet_id;
  publisher.next_packet_id = id == 65535 ? 1 : static_cast<uint16_t>(id + 1);
  return id;
}

// The ring holds the `window` messages from oldest_pending on, so a sequence
// outside [oldest_pending, sent) has no slot: it was complete already.
void Runner::complete(uint32_t index, uint64_t sequence) {
  Publisher& publisher = publishers_[index];
  if (sequence < publisher.oldest_pending || sequence >= publisher.sent) return;
  uint32_t& receivers_left = publisher.pending[sequence & ring_mask_];
  if (receivers_left == 0 || --receivers_left > 0) return;
  while (publisher.oldest_pending < publisher.sent &&
         publisher.pending[publisher.oldest_pending & ring_mask_] == 0) {
    ++publisher.oldest_pending;
  }
  if (!publisher.queued && can_send(publisher)) make_ready(index);
}

uint64_t Runner::in_flight() const {
  uint64_t total = 0;
  for (const Publisher& publisher : publishers_) total += publisher.sent - publisher.oldest_pending;
  return total;
}

}  // namespace stellwerk::bench

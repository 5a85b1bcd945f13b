// Session bookkeeping: the queue, the in-flight window and its packet ids,
// inbound QoS 2 ids, retained backlogs. The message state lives in Traffic,
// made on first use (session.h says why).
#include "session/session.h"

#include <algorithm>

namespace stellwerk::session {

Session::Traffic& Session::traffic() {
  if (!traffic_) traffic_ = std::make_unique<Traffic>();
  return *traffic_;
}

const Session::Traffic& Session::no_traffic() {
  static const Traffic none;
  return none;
}

void Session::release_traffic_if_unused() {
  if (!traffic_) return;
  const Traffic& t = *traffic_;
  const bool unused = t.queue.empty() && t.inflight.empty() && !t.ids_in_use && t.inbound_qos2.empty() &&
                      !t.retained_backlogs && t.last_packet_id == 0 && t.counters.dropped_queue_full == 0 &&
                      t.counters.dropped_expired == 0 && t.counters.dropped_too_large == 0;
  if (unused) traffic_.reset();
}

bool Session::add_subscription(const std::string& filter, const Subscription& sub) {
  return subscriptions_.insert_or_assign(filter, sub);
}

bool Session::remove_subscription(const std::string& filter) { return subscriptions_.erase(filter); }

bool Session::begin_inbound_qos2(uint16_t packet_id) {
  return traffic().inbound_qos2.insert(packet_id).second;
}

bool Session::enqueue(Delivery delivery, const QueueLimits& limits, bool online) {
  // Offline QoS 0 is not kept unless configured (as mosquitto's queue_qos0_messages).
  if (!online && delivery.qos == mqtt::QoS::at_most_once && !limits.queue_qos0_offline) return true;
  Traffic& t = traffic();
  const size_t size = delivery.message->footprint();
  const bool over_count = limits.max_messages && t.queue.size() >= limits.max_messages;
  const bool over_bytes = limits.max_bytes && t.queued_bytes + size > limits.max_bytes;
  if (over_count || over_bytes) {
    ++t.counters.dropped_queue_full;
    return false;
  }
  t.queued_bytes += size;
  t.queue.push_back(std::move(delivery));
  return true;
}

std::optional<Delivery> Session::take_sendable(size_t window, TimePoint now) {
  if (!traffic_) return std::nullopt;
  Traffic& t = *traffic_;
  while (!t.queue.empty()) {
    Delivery& front = t.queue.front();
    if (front.message->expired(now)) {
      ++t.counters.dropped_expired;
      t.queued_bytes -= front.message->footprint();
      t.queue.pop_front();
      continue;
    }
    // QoS 1/2 keep their order behind the window, so QoS 0 behind them waits too.
    if (front.qos != mqtt::QoS::at_most_once && t.inflight.size() >= window) return std::nullopt;
    Delivery out = std::move(front);
    t.queued_bytes -= out.message->footprint();
    t.queue.pop_front();
    return out;
  }
  return std::nullopt;
}

bool Session::sends_at_once(const Delivery& delivery, const QueueLimits& limits, size_t window,
                            TimePoint now) const {
  if (has_queued()) return false;
  if (delivery.qos != mqtt::QoS::at_most_once && inflight_count() >= window) return false;
  // An empty queue is never over max_messages; one message can be over max_bytes.
  if (limits.max_bytes && delivery.message->footprint() > limits.max_bytes) return false;
  return !delivery.message->expired(now);
}

Inflight& Session::start_inflight(Delivery delivery) {
  Inflight entry;
  entry.packet_id = allocate_packet_id();
  entry.state = delivery.qos == mqtt::QoS::exactly_once ? InflightState::awaiting_pubrec
                                                        : InflightState::awaiting_puback;
  entry.delivery = std::move(delivery);
  add_inflight(std::move(entry));
  return traffic_->inflight.back();
}

void Session::restore_inflight(Inflight entry) {
  traffic().last_packet_id = std::max(traffic().last_packet_id, entry.packet_id);
  add_inflight(std::move(entry));
}

void Session::add_inflight(Inflight entry) {
  constexpr size_t kLongestScan = 32;
  Traffic& t = traffic();
  if (!t.ids_in_use && t.inflight.size() >= kLongestScan) {
    t.ids_in_use = std::make_unique<std::bitset<65536>>();
    for (const Inflight& f : t.inflight) t.ids_in_use->set(f.packet_id);
  }
  if (t.ids_in_use) t.ids_in_use->set(entry.packet_id);
  t.inflight.push_back(std::move(entry));
}

void Session::note_id_released(uint16_t id) {
  if (traffic_ && traffic_->ids_in_use) traffic_->ids_in_use->reset(id);
}

void Session::restore_queued(Delivery delivery) {
  Traffic& t = traffic();
  t.queued_bytes += delivery.message->footprint();
  t.queue.push_back(std::move(delivery));
}

bool Session::complete_inflight(uint16_t packet_id, InflightState expected) {
  if (!traffic_) return false;
  LazyDeque<Inflight>& inflight = traffic_->inflight;
  auto it = std::find_if(inflight.begin(), inflight.end(),
                         [&](const Inflight& f) { return f.packet_id == packet_id; });
  if (it == inflight.end() || it->state != expected) return false;
  inflight.erase(it);
  note_id_released(packet_id);
  return true;
}

bool Session::mark_released(uint16_t packet_id) {
  if (!traffic_) return false;
  for (Inflight& f : traffic_->inflight) {
    if (f.packet_id != packet_id) continue;
    if (f.state == InflightState::awaiting_puback) return false;
    f.state = InflightState::awaiting_pubcomp;
    return true;
  }
  return false;
}

void Session::add_retained_backlog(RetainedBacklog backlog) {
  (void)drop_retained_backlog(backlog.filter);
  auto& backlogs = traffic().retained_backlogs;
  if (!backlogs) backlogs = std::make_unique<std::deque<RetainedBacklog>>();
  backlogs->push_back(std::move(backlog));
}

bool Session::drop_retained_backlog(std::string_view filter) {
  if (!has_retained_backlog()) return false;
  auto& backlogs = *traffic_->retained_backlogs;
  const auto it = std::find_if(backlogs.begin(), backlogs.end(),
                               [filter](const RetainedBacklog& backlog) { return backlog.filter == filter; });
  if (it == backlogs.end()) return false;
  backlogs.erase(it);
  if (backlogs.empty()) {
    traffic_->retained_backlogs.reset();
    release_traffic_if_unused();
  }
  return true;
}

RetainedBacklog* Session::next_retained_backlog() {
  return has_retained_backlog() ? &traffic_->retained_backlogs->front() : nullptr;
}

void Session::finish_retained_backlog() {
  if (!has_retained_backlog()) return;
  auto& backlogs = traffic_->retained_backlogs;
  backlogs->pop_front();
  if (backlogs->empty()) {
    backlogs.reset();
    release_traffic_if_unused();
  }
}

void Session::clear_retained_backlogs() {
  if (!traffic_) return;
  traffic_->retained_backlogs.reset();
  release_traffic_if_unused();
}

void Session::clear_messages() {
  // The packet id counter and the counters stay: ids keep moving on, and
  // the counters count the session's whole life.
  if (!traffic_) return;
  Traffic& t = *traffic_;
  t.retained_backlogs.reset();
  t.queue.clear();
  t.queued_bytes = 0;
  t.inflight.clear();
  if (t.ids_in_use) t.ids_in_use->reset();
  t.inbound_qos2.clear();
}

bool Session::packet_id_in_use(uint16_t id) const {
  if (!traffic_) return false;
  if (traffic_->ids_in_use) return traffic_->ids_in_use->test(id);
  return std::any_of(traffic_->inflight.begin(), traffic_->inflight.end(),
                     [&](const Inflight& f) { return f.packet_id == id; });
}

uint16_t Session::allocate_packet_id() {
  // The window is at most 65535 wide, so a free id always exists.
  uint16_t& last = traffic().last_packet_id;
  do {
    last = static_cast<uint16_t>(last == 65535 ? 1 : last + 1);
  } while (packet_id_in_use(last));
  return last;
}

}  // namespace stellwerk::session

#include "session/session.h"

#include <algorithm>

namespace stellwerk::session {

bool Session::add_subscription(const std::string& filter, const Subscription& sub) {
  auto [it, inserted] = subscriptions_.insert_or_assign(filter, sub);
  return inserted;
}

bool Session::remove_subscription(const std::string& filter) { return subscriptions_.erase(filter) > 0; }

bool Session::enqueue(Delivery delivery, const QueueLimits& limits, bool online) {
  // Offline QoS 0 is not kept unless configured (as mosquitto's queue_qos0_messages).
  if (!online && delivery.qos == mqtt::QoS::at_most_once && !limits.queue_qos0_offline) return true;
  const size_t size = delivery.message->footprint();
  const bool over_count = limits.max_messages && queue_.size() >= limits.max_messages;
  const bool over_bytes = limits.max_bytes && queued_bytes_ + size > limits.max_bytes;
  if (over_count || over_bytes) {
    ++counters_.dropped_queue_full;
    return false;
  }
  queued_bytes_ += size;
  queue_.push_back(std::move(delivery));
  return true;
}

std::optional<Delivery> Session::take_sendable(size_t window, TimePoint now) {
  while (!queue_.empty()) {
    Delivery& front = queue_.front();
    if (front.message->expired(now)) {
      ++counters_.dropped_expired;
      queued_bytes_ -= front.message->footprint();
      queue_.pop_front();
      continue;
    }
    // QoS 1/2 keep their order behind the window, so QoS 0 behind them waits too.
    if (front.qos != mqtt::QoS::at_most_once && inflight_.size() >= window) return std::nullopt;
    Delivery out = std::move(front);
    queued_bytes_ -= out.message->footprint();
    queue_.pop_front();
    return out;
  }
  return std::nullopt;
}

Inflight& Session::start_inflight(Delivery delivery) {
  Inflight entry;
  entry.packet_id = allocate_packet_id();
  entry.state = delivery.qos == mqtt::QoS::exactly_once ? InflightState::awaiting_pubrec
                                                        : InflightState::awaiting_puback;
  entry.delivery = std::move(delivery);
  add_inflight(std::move(entry));
  return inflight_.back();
}

void Session::restore_inflight(Inflight entry) {
  last_packet_id_ = std::max(last_packet_id_, entry.packet_id);
  add_inflight(std::move(entry));
}

void Session::add_inflight(Inflight entry) {
  constexpr size_t kLongestScan = 32;
  if (!ids_in_use_ && inflight_.size() >= kLongestScan) {
    ids_in_use_ = std::make_unique<std::bitset<65536>>();
    for (const Inflight& f : inflight_) ids_in_use_->set(f.packet_id);
  }
  if (ids_in_use_) ids_in_use_->set(entry.packet_id);
  inflight_.push_back(std::move(entry));
}

void Session::note_id_released(uint16_t id) {
  if (ids_in_use_) ids_in_use_->reset(id);
}

void Session::restore_queued(Delivery delivery) {
  queued_bytes_ += delivery.message->footprint();
  queue_.push_back(std::move(delivery));
}

bool Session::complete_inflight(uint16_t packet_id, InflightState expected) {
  auto it = std::find_if(inflight_.begin(), inflight_.end(),
                         [&](const Inflight& f) { return f.packet_id == packet_id; });
  if (it == inflight_.end() || it->state != expected) return false;
  inflight_.erase(it);
  note_id_released(packet_id);
  return true;
}

bool Session::mark_released(uint16_t packet_id) {
  for (Inflight& f : inflight_) {
    if (f.packet_id != packet_id) continue;
    if (f.state == InflightState::awaiting_puback) return false;
    f.state = InflightState::awaiting_pubcomp;
    return true;
  }
  return false;
}

void Session::add_retained_backlog(RetainedBacklog backlog) {
  (void)drop_retained_backlog(backlog.filter);
  if (!retained_backlogs_) retained_backlogs_ = std::make_unique<std::deque<RetainedBacklog>>();
  retained_backlogs_->push_back(std::move(backlog));
}

bool Session::drop_retained_backlog(std::string_view filter) {
  if (!retained_backlogs_) return false;
  auto& backlogs = *retained_backlogs_;
  const auto it = std::find_if(backlogs.begin(), backlogs.end(),
                               [filter](const RetainedBacklog& backlog) { return backlog.filter == filter; });
  if (it == backlogs.end()) return false;
  backlogs.erase(it);
  if (backlogs.empty()) retained_backlogs_.reset();
  return true;
}

RetainedBacklog* Session::next_retained_backlog() {
  return retained_backlogs_ ? &retained_backlogs_->front() : nullptr;
}

void Session::finish_retained_backlog() {
  if (!retained_backlogs_) return;
  retained_backlogs_->pop_front();
  if (retained_backlogs_->empty()) retained_backlogs_.reset();
}

void Session::clear_messages() {
  clear_retained_backlogs();
  queue_.clear();
  queued_bytes_ = 0;
  inflight_.clear();
  if (ids_in_use_) ids_in_use_->reset();
  inbound_qos2_.clear();
}

bool Session::packet_id_in_use(uint16_t id) const {
  if (ids_in_use_) return ids_in_use_->test(id);
  return std::any_of(inflight_.begin(), inflight_.end(),
                     [&](const Inflight& f) { return f.packet_id == id; });
}

uint16_t Session::allocate_packet_id() {
  // The window is at most 65535 wide, so a free id always exists.
  do {
    last_packet_id_ = static_cast<uint16_t>(last_packet_id_ == 65535 ? 1 : last_packet_id_ + 1);
  } while (packet_id_in_use(last_packet_id_));
  return last_packet_id_;
}

}  // namespace stellwerk::session

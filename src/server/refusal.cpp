// Connections over a listener's max_connections (issue 5, point 7): each gets
// a CONNACK that says why (over_limit.h) instead of a bare close. Only a few
// may wait for their CONNECT at once, and only briefly, so that a flood of
// connections cannot hold descriptors through this path.
#include "base/log.h"
#include "net/worker.h"
#include "server/over_limit.h"
#include "server/server.h"

namespace stellwerk::server {
namespace {

constexpr int64_t kMaxPendingRefusalsPerListener = 64;
constexpr auto kRefusalTimeout = std::chrono::seconds(5);

bool worth_logging(uint64_t refused_before) {
  // The first refusal and every 100th: a storm must not flood the log.
  return refused_before % 100 == 0;
}

}  // namespace

void Server::refuse_over_limit(net::Worker& w, net::ConnectionId id, int listener_tag, const net::PeerAddress& peer) {
  Listener& listener = *listeners_[static_cast<size_t>(listener_tag)];
  const uint64_t refused_before = counters_.refused_max_connections.fetch_add(1);
  if (listener.refusing.load() >= kMaxPendingRefusalsPerListener) {
    if (worth_logging(refused_before)) {
      log::notice("Closing connection from {}: listener at max_connections ({}) and {} refusals already pending "
                  "({} refused so far).", peer.text, listener.max_connections.load(), kMaxPendingRefusalsPerListener,
                  refused_before + 1);
    }
    w.abort(id);
    return;
  }
  ++listener.refusing;
  {
    std::lock_guard lock(refusals_mutex_);
    refusals_.emplace(id, Refusal{listener_tag, {}});
    refusal_count_.store(refusals_.size());
  }
  w.schedule(w.now() + kRefusalTimeout, [this, &w, id] { expire_refusal(w, id); });
  if (worth_logging(refused_before)) {
    log::notice("Refusing connection from {}: listener at max_connections ({}); its CONNECT gets a refusal "
                "({} refused so far).", peer.text, listener.max_connections.load(), refused_before + 1);
  }
}

bool Server::feed_refusal(net::Worker& w, net::ConnectionId id, std::span<const uint8_t> bytes) {
  OverLimitAnswer answer;
  int listener_tag = 0;
  {
    std::lock_guard lock(refusals_mutex_);
    auto it = refusals_.find(id);
    if (it == refusals_.end()) return false;
    std::string& received = it->second.received;
    received.append(reinterpret_cast<const char*>(bytes.data()), bytes.size());
    answer = answer_over_limit(
        std::span(reinterpret_cast<const uint8_t*>(received.data()), received.size()));
    if (answer.kind == OverLimitAnswer::Kind::need_more) return true;
    listener_tag = it->second.listener_tag;
    refusals_.erase(it);
    refusal_count_.store(refusals_.size());
  }
  --listeners_[static_cast<size_t>(listener_tag)]->refusing;
  if (answer.kind == OverLimitAnswer::Kind::connack) {
    w.send(id, std::move(answer.bytes));
    w.close(id);
  } else {
    log::notice("Closing a connection over max_connections: {}.", answer.why);
    w.abort(id);
  }
  return true;
}

bool Server::end_refusal(net::ConnectionId id) {
  int listener_tag = 0;
  {
    std::lock_guard lock(refusals_mutex_);
    auto it = refusals_.find(id);
    if (it == refusals_.end()) return false;
    listener_tag = it->second.listener_tag;
    refusals_.erase(it);
    refusal_count_.store(refusals_.size());
  }
  --listeners_[static_cast<size_t>(listener_tag)]->refusing;
  return true;
}

void Server::expire_refusal(net::Worker& w, net::ConnectionId id) {
  if (!end_refusal(id)) return;  // answered or gone already
  log::notice("Closing a connection over max_connections: no CONNECT within {} s.", kRefusalTimeout.count());
  w.abort(id);
}

}  // namespace stellwerk::server

// Blocking client (see client.h): the socket loop around a Session. Every
// wait goes through run_until(), which keeps the connection served while the
// caller's condition is false, so acknowledgements and keep-alive never stall
// behind a caller that is waiting for something else.
#include "client/client.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>

#include "client/overloaded.h"

namespace stellwerk::client {
namespace {

constexpr auto kDisconnectFlushTime = seconds(5);

ClientError timed_out(std::string message) {
  return ClientError{ErrorKind::timeout, std::move(message), {}};
}

}  // namespace

TimePoint no_deadline() { return Clock::now() + std::chrono::hours(24 * 365); }

ClientResult<mqtt::Connack> Client::connect(const ConnectOptions& options) {
  const TimePoint deadline = Clock::now() + options.timeout;
  broken_.reset();
  connack_.reset();
  messages_.clear();
  subacks_.clear();
  unsubacks_.clear();
  publish_failure_.reset();
  session_ = Session(options.session);
  session_.set_observer(observer_);
  // CONNECT is checked and queued first: a bad option fails before any network.
  if (auto started = session_.connect(options.connect, Clock::now()); !started) {
    return fail(started.error());
  }
  auto socket = TcpSocket::connect(options.host, options.port, deadline);
  if (!socket) return fail(socket.error());
  socket_ = std::move(socket).value();
  auto done = run_until(deadline, [&] { return connack_.has_value(); });
  if (!done) return fail(done.error());
  if (!done.value()) return fail(broken(timed_out("no CONNACK from the server in time")).error());
  return *connack_;
}

void Client::set_observer(PacketObserver observer) {
  observer_ = std::move(observer);
  session_.set_observer(observer_);
}

ClientResult<uint16_t> Client::publish(mqtt::Publish message) {
  if (broken_) return fail(*broken_);
  if (message.qos != mqtt::QoS::at_most_once && !session_.can_publish()) {
    auto slot = run_until(no_deadline(), [&] { return session_.can_publish(); });
    if (!slot) return fail(slot.error());
  }
  auto id = session_.publish(std::move(message), Clock::now());
  if (!id) return id;
  // Writing now bounds the output buffer when publishing in a loop.
  if (auto flushed = flush(no_deadline()); !flushed) return fail(flushed.error());
  return id;
}

ClientStatus Client::wait_for_publishes(TimePoint deadline) {
  auto done = run_until(deadline, [&] { return session_.publishes_in_flight() == 0; });
  if (!done) return fail(done.error());
  if (!done.value()) return fail(timed_out("publishes still unacknowledged at the deadline"));
  if (publish_failure_) return fail(*std::exchange(publish_failure_, std::nullopt));
  return {};
}

ClientResult<mqtt::Suback> Client::subscribe(mqtt::Subscribe request, TimePoint deadline) {
  if (broken_) return fail(*broken_);
  auto id = session_.subscribe(std::move(request), Clock::now());
  if (!id) return fail(id.error());
  auto done = run_until(deadline, [&] { return subacks_.count(id.value()) > 0; });
  if (!done) return fail(done.error());
  if (!done.value()) return fail(timed_out("no SUBACK from the server in time"));
  auto suback = std::move(subacks_.at(id.value()));
  subacks_.erase(id.value());
  return suback;
}

ClientResult<mqtt::Unsuback> Client::unsubscribe(mqtt::Unsubscribe request, TimePoint deadline) {
  if (broken_) return fail(*broken_);
  auto id = session_.unsubscribe(std::move(request), Clock::now());
  if (!id) return fail(id.error());
  auto done = run_until(deadline, [&] { return unsubacks_.count(id.value()) > 0; });
  if (!done) return fail(done.error());
  if (!done.value()) return fail(timed_out("no UNSUBACK from the server in time"));
  auto unsuback = std::move(unsubacks_.at(id.value()));
  unsubacks_.erase(id.value());
  return unsuback;
}

ClientResult<std::optional<mqtt::Publish>> Client::receive(TimePoint deadline) {
  auto done = run_until(deadline, [&] { return !messages_.empty(); });
  // Messages that arrived before a failure are still worth handing out.
  if (!done && messages_.empty()) return fail(done.error());
  if (messages_.empty()) return std::optional<mqtt::Publish>();
  mqtt::Publish message = std::move(messages_.front());
  messages_.pop_front();
  return std::optional<mqtt::Publish>(std::move(message));
}

ClientStatus Client::service(TimePoint deadline) {
  auto done = run_until(deadline, [] { return false; });
  if (!done) return fail(done.error());
  return {};
}

ClientStatus Client::disconnect(mqtt::Disconnect request) {
  if (!socket_.is_open()) return {};
  ClientStatus status;
  if (!broken_) {
    session_.disconnect(std::move(request), Clock::now());
    status = flush(Clock::now() + kDisconnectFlushTime);
  }
  socket_.close();
  return status;
}

ClientResult<bool> Client::wait_readable(int fd, TimePoint deadline) {
  bool ready = false;
  while (!ready) {
    if (broken_) return fail(*broken_);
    if (!socket_.is_open()) return client_error(ErrorKind::closed, "not connected");
    if (Clock::now() >= deadline) return false;
    if (auto stepped = step(deadline, fd, &ready); !stepped) return fail(stepped.error());
  }
  return true;
}

ClientResult<bool> Client::run_until(TimePoint deadline, const std::function<bool()>& done) {
  while (!done()) {
    if (broken_) return fail(*broken_);
    if (!socket_.is_open()) return client_error(ErrorKind::closed, "not connected");
    if (Clock::now() >= deadline) return false;
    if (auto stepped = step(deadline); !stepped) return fail(stepped.error());
  }
  return true;
}

ClientStatus Client::step(TimePoint deadline, int watch_fd, bool* watch_ready) {
  TimePoint wake = deadline;
  if (auto timer = session_.next_deadline()) wake = std::min(wake, *timer);
  auto ready = socket_.wait(!session_.output().empty(), wake, watch_fd);
  if (!ready) return broken(ready.error());
  if (watch_ready) *watch_ready = ready->watched;
  if (ready->readable) {
    if (auto read = read_available(); !read) return read;
  }
  // Answers to what was just read go out now, not on the next turn.
  if (ready->writable || ready->readable) {
    if (auto written = write_available(); !written) return written;
  }
  if (auto timer = session_.on_timer(Clock::now()); !timer) return broken(timer.error());
  return {};
}

ClientStatus Client::read_available() {
  std::array<uint8_t, 64 * 1024> buffer;
  auto count = socket_.read_some(buffer);
  if (!count) return broken(count.error());
  if (count.value() == 0) return {};
  events_.clear();
  auto status = session_.receive(std::span(buffer.data(), count.value()), Clock::now(), events_);
  for (Event& event : events_) on_event(event);
  if (!status) {
    // Best effort: let the server see the DISCONNECT that explains why.
    (void)write_available();
    return broken(status.error());
  }
  return {};
}

ClientStatus Client::write_available() {
  while (!session_.output().empty()) {
    auto written = socket_.write_some(session_.output());
    if (!written) return broken(written.error());
    if (written.value() == 0) break;  // the kernel's buffer is full; wait for POLLOUT
    session_.consume_output(written.value());
  }
  return {};
}

ClientStatus Client::flush(TimePoint deadline) {
  if (broken_) return fail(*broken_);
  // Usually the kernel takes everything at once and no poll() is needed.
  if (auto written = write_available(); !written) return written;
  auto done = run_until(deadline, [&] { return session_.output().empty(); });
  if (!done) return fail(done.error());
  if (!done.value()) return fail(timed_out("could not send everything in time"));
  return {};
}

void Client::on_event(Event& event) {
  std::visit(
      Overloaded{
          [&](event::Connected& connected) { connack_ = std::move(connected.connack); },
          [&](event::Message& message) { messages_.push_back(std::move(message.publish)); },
          [&](event::PublishDone& done) {
            if (!mqtt::is_error(done.reason) || publish_failure_) return;
            publish_failure_ = ClientError{
                ErrorKind::rejected,
                fmt::format("publish {} failed: {}", done.packet_id, describe_reason(done.reason)),
                done.reason};
          },
          [&](event::Subscribed& subscribed) {
            subacks_[subscribed.suback.packet_id] = std::move(subscribed.suback);
          },
          [&](event::Unsubscribed& unsubscribed) {
            unsubacks_[unsubscribed.unsuback.packet_id] = std::move(unsubscribed.unsuback);
          },
          [](event::PingAnswered&) {},
      },
      event);
}

ClientStatus Client::broken(ClientError error) {
  broken_ = error;
  socket_.close();
  return fail(std::move(error));
}

}  // namespace stellwerk::client

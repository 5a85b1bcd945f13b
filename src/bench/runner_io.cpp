// The generator's sockets: starting connections, reading and framing what
// the broker sends, and writing what a turn queued in one send() per socket.
// As in the broker's own loop, a short read means the socket is empty and a
// short write that its buffer is full, so neither needs a call that fails
// with EAGAIN; the next edge says when to go on. A TLS link cannot tell
// that from record sizes: it reads until OpenSSL wants more, and as a read
// may need the socket writable (and a write readable, in the handshake),
// every edge of a TLS link tries both.
#include <fmt/format.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "bench/runner.h"
#include "mqtt/codec.h"

namespace stellwerk::bench {

void Runner::start_connects() {
  while (phase_ == Phase::connecting && connecting_ < options_.connect_concurrency &&
         next_to_connect_ < links_.size()) {
    start_connect(links_[next_to_connect_++]);
  }
}

void Runner::start_connect(Link& link) {
  const uint32_t index = static_cast<uint32_t>(&link - links_.data());
  const Endpoint* source = sources_.empty() ? nullptr : &sources_[index % sources_.size()];
  link.state = LinkState::connecting;
  ++connecting_;
  // An idle client sends nothing while earlier data is unacknowledged, so
  // Nagle never holds it back.
  auto started = bench::start_connect(target_, source, link.role != Role::idle);
  if (!started) return fail_link(link, fmt::format("connect: {}", std::strerror(started.error())));
  link.fd = started.value();
  epoll_event event{};
  event.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
  event.data.u32 = index;
  if (::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, link.fd, &event) != 0) {
    return fail_link(link, fmt::format("epoll_ctl: {}", std::strerror(errno)));
  }
  // CONNECT goes out now rather than on the connect's EPOLLOUT edge or at
  // the end of the turn: on loopback the handshake has finished inside
  // connect(), so the broker can read and answer while this loop starts
  // the next connections, instead of both taking turns. Where the socket is
  // still connecting, the write finds it not writable yet and waits for
  // that edge like any blocked write; a connect that failed fails the write
  // or the read with its reason. TLS needs the edge to begin.
  if (tls_) return;
  link.state = LinkState::awaiting_connack;
  queue_connect(link);
  write_out(link);
}

void Runner::on_event(uint32_t link_index, uint32_t events) {
  Link& link = links_[link_index];
  if (link.fd < 0) return;
  if (link.state == LinkState::connecting) {
    finish_connect(link, (events & (EPOLLERR | EPOLLHUP)) != 0);
    if (link.fd < 0) return;
  }
  if ((events & (EPOLLRDHUP | EPOLLHUP)) != 0) link.peer_shut = true;
  if (link.tls) {
    read_tls(link);
    if (link.fd >= 0 && link.write_blocked) {
      link.write_blocked = false;
      mark_dirty(link);
    }
    return;
  }
  if ((events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) != 0) read_from(link);
  if (link.fd >= 0 && (events & EPOLLOUT) != 0 && link.write_blocked) {
    link.write_blocked = false;
    mark_dirty(link);
  }
}

// The first edge of a connecting socket ends the connect; only an error
// edge needs the call that asks how it failed.
void Runner::finish_connect(Link& link, bool failed) {
  if (const int error = failed ? connect_result(link.fd) : 0; failed) {
    return fail_link(link, fmt::format("connect: {}", std::strerror(error != 0 ? error : ECONNREFUSED)));
  }
  if (tls_) {
    // The handshake runs inside the first reads and writes of the session.
    auto session = tls_->open(link.fd, options_.host);
    if (!session) return fail_link(link, "TLS: " + session.error());
    link.tls = std::move(session.value());
  }
  link.state = LinkState::awaiting_connack;
  send_connect(link);
}

void Runner::read_from(Link& link) {
  if (link.tls) return read_tls(link);
  while (link.fd >= 0) {
    const ssize_t n = ::read(link.fd, read_buffer_.data(), read_buffer_.size());
    if (n > 0) {
      now_ = Clock::now();  // latency is taken per read, not per loop turn
      take_frames(link, read_buffer_.data(), static_cast<size_t>(n));
      // After the broker's FIN no new edge comes, so then read on to EOF.
      if (static_cast<size_t>(n) < read_buffer_.size() && !link.peer_shut) return;
      continue;
    }
    if (n == 0) return fail_link(link, "the broker closed the connection");
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return;
    return fail_link(link, fmt::format("read: {}", std::strerror(errno)));
  }
}

// Hands every complete frame in link.input + data to handle_frame and keeps
// the incomplete rest. Frames are taken straight from `data` when nothing was
// carried over, which is the common case.
void Runner::take_frames(Link& link, const uint8_t* data, size_t size) {
  std::span<const uint8_t> bytes(data, size);
  const bool carried = !link.input.empty();
  if (carried) {
    link.input.append(reinterpret_cast<const char*>(data), size);
    bytes = std::span(reinterpret_cast<const uint8_t*>(link.input.data()), link.input.size());
  }
  size_t offset = 0;
  while (offset < bytes.size()) {
    const std::span<const uint8_t> rest = bytes.subspan(offset);
    const mqtt::FrameScan scan = mqtt::scan_frame(rest);
    if (scan.status == mqtt::FrameStatus::need_more) break;
    if (scan.status == mqtt::FrameStatus::malformed)
      return fail_link(link, "malformed packet from the broker");
    const size_t frame_size = scan.header.total_size();
    handle_frame(link, rest.first(frame_size));
    if (link.fd < 0) return;  // the frame failed the link; its buffers are gone
    offset += frame_size;
  }
  if (carried) {
    link.input.erase(0, offset);
  } else if (offset < size) {
    link.input.assign(reinterpret_cast<const char*>(data) + offset, size - offset);
  }
}

void Runner::fail_link(Link& link, const std::string& why) {
  if (link.state == LinkState::failed || link.state == LinkState::closed) return;
  const bool was_ready = link.state == LinkState::ready;
  if (was_ready) {
    ++links_dropped_;
  } else {
    if (link.state != LinkState::queued) --connecting_;
    ++links_failed_;
  }
  // A link that fails while the run is being wound up does not count.
  if (phase_ == Phase::closing || phase_ == Phase::done) {
    was_ready ? --links_dropped_ : --links_failed_;
  } else if (first_failure_.empty()) {
    first_failure_ = why;
  }
  close_link(link);
  link.state = LinkState::failed;
  link.input.clear();
  link.output.clear();
  link.output_written = 0;
}

void Runner::mark_dirty(Link& link) {
  if (link.dirty || link.write_blocked || link.fd < 0) return;
  link.dirty = true;
  dirty_.push_back(static_cast<uint32_t>(&link - links_.data()));
}

void Runner::flush() {
  for (const uint32_t index : dirty_) {
    Link& link = links_[index];
    link.dirty = false;
    if (link.fd >= 0) write_out(link);
  }
  dirty_.clear();
}

void Runner::write_out(Link& link) {
  if (link.tls) return write_tls(link);
  while (link.output_written < link.output.size()) {
    const size_t left = link.output.size() - link.output_written;
    const ssize_t n = ::send(link.fd, link.output.data() + link.output_written, left, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
      return fail_link(link, fmt::format("write: {}", std::strerror(errno)));
    }
    const size_t written = n < 0 ? 0 : static_cast<size_t>(n);
    link.output_written += written;
    if (written < left) {
      link.write_blocked = true;  // the EPOLLOUT edge marks it dirty again
      return;
    }
  }
  link.output.clear();
  link.output_written = 0;
  link.last_sent = now_;
}

void Runner::close_link(Link& link) {
  link.tls.reset();
  if (link.fd >= 0) ::close(link.fd);
  link.fd = -1;
}

void Runner::read_tls(Link& link) {
  while (link.fd >= 0) {
    const TlsIo io = tls_read(link.tls.get(), read_buffer_.data(), read_buffer_.size());
    switch (io.status) {
      case TlsStatus::done:
        now_ = Clock::now();
        take_frames(link, read_buffer_.data(), io.bytes);
        continue;
      case TlsStatus::want_read:
      case TlsStatus::want_write:  // the edge that makes the socket writable reads again
        return;
      case TlsStatus::closed:
        return fail_link(link, "the broker closed the connection");
      case TlsStatus::failed:
        return fail_link(link, "TLS read: " + tls_error_text());
    }
  }
}

void Runner::write_tls(Link& link) {
  while (link.output_written < link.output.size()) {
    const size_t left = link.output.size() - link.output_written;
    const TlsIo io = tls_write(link.tls.get(), link.output.data() + link.output_written, left);
    if (io.status == TlsStatus::want_read || io.status == TlsStatus::want_write) {
      link.write_blocked = true;  // any edge of the link marks it dirty again
      return;
    }
    if (io.status != TlsStatus::done) return fail_link(link, "TLS write: " + tls_error_text());
    link.output_written += io.bytes;
  }
  link.output.clear();
  link.output_written = 0;
  link.last_sent = now_;
}

}  // namespace stellwerk::bench

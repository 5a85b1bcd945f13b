// The admin socket's threads and file handling; see admin_server.h.
#include "admin/admin_server.h"

#include <fmt/format.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "admin/request_handler.h"
#include "admin/retained_json.h"
#include "base/log.h"
#include "base/thread_name.h"

namespace stellwerk::admin {
namespace {

constexpr size_t kReadSize = 64 * 1024;

Result<sockaddr_un, std::string> socket_address(const std::string& path) {
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  if (path.empty() || path.size() >= sizeof(address.sun_path)) {
    return fail(fmt::format("admin socket path must have 1 to {} bytes: {}", sizeof(address.sun_path) - 1, path));
  }
  std::memcpy(address.sun_path, path.data(), path.size());
  return address;
}

// Clears the way for a new socket at `address`: nothing there, or a socket
// file nobody answers on (left by a crash). Anything else is an error.
Status<std::string> remove_stale_socket(const sockaddr_un& address) {
  const char* path = address.sun_path;
  struct stat info {};
  if (::lstat(path, &info) != 0) return {};
  if (!S_ISSOCK(info.st_mode)) return fail(fmt::format("{} exists and is not a socket", path));
  const int probe = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (probe < 0) return fail(fmt::format("socket: {}", std::strerror(errno)));
  const bool answered = ::connect(probe, reinterpret_cast<const sockaddr*>(&address), sizeof(address)) == 0;
  ::close(probe);
  if (answered) return fail(fmt::format("{} is in use by another running broker", path));
  if (::unlink(path) != 0) return fail(fmt::format("cannot remove stale {}: {}", path, std::strerror(errno)));
  log::notice("Replaced the stale admin socket {}.", path);
  return {};
}

// Bound, mode 0600, then listening: nobody else can connect in between.
Result<int, std::string> open_socket(const sockaddr_un& address) {
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return fail(fmt::format("socket: {}", std::strerror(errno)));
  std::string error;
  if (::bind(fd, reinterpret_cast<const sockaddr*>(&address), sizeof(address)) != 0) {
    error = fmt::format("cannot bind {}: {}", address.sun_path, std::strerror(errno));
  } else if (::chmod(address.sun_path, 0600) != 0 || ::listen(fd, 16) != 0) {
    error = fmt::format("cannot listen on {}: {}", address.sun_path, std::strerror(errno));
    ::unlink(address.sun_path);
  }
  if (error.empty()) return fd;
  ::close(fd);
  return fail(error);
}

}  // namespace

Result<std::unique_ptr<AdminServer>, std::string> AdminServer::start(AdminServerOptions options, BrokerPort& port) {
  auto address = socket_address(options.path);
  if (!address) return fail(address.error());
  if (auto cleared = remove_stale_socket(address.value()); !cleared) return fail(cleared.error());
  auto fd = open_socket(address.value());
  if (!fd) return fail(fd.error());
  struct stat info {};
  (void)::stat(options.path.c_str(), &info);
  const int stop_fd = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (stop_fd < 0) {
    ::close(fd.value());
    ::unlink(options.path.c_str());
    return fail(fmt::format("eventfd: {}", std::strerror(errno)));
  }
  log::notice("Admin socket listening on {}.", options.path);
  return std::unique_ptr<AdminServer>(new AdminServer(std::move(options), port, fd.value(), stop_fd, info.st_ino));
}

AdminServer::AdminServer(AdminServerOptions options, BrokerPort& port, int listen_fd, int stop_fd, ino_t inode)
    : options_(std::move(options)), port_(port), listen_fd_(listen_fd), stop_fd_(stop_fd), inode_(inode) {
  acceptor_ = std::thread([this] { accept_loop(); });
}

AdminServer::~AdminServer() {
  stopping_.store(true);
  const uint64_t one = 1;
  (void)!::write(stop_fd_, &one, sizeof(one));
  acceptor_.join();
  for (Connection& connection : connections_) connection.thread.join();
  ::close(listen_fd_);
  ::close(stop_fd_);
  // A broker started after us may have replaced the file: leave theirs.
  struct stat info {};
  if (::lstat(options_.path.c_str(), &info) == 0 && info.st_ino == inode_) ::unlink(options_.path.c_str());
}

void AdminServer::accept_loop() {
  name_this_thread("sw-admin");
  while (!stopping()) {
    pollfd fds[2] = {{listen_fd_, POLLIN, 0}, {stop_fd_, POLLIN, 0}};
    const int ready = ::poll(fds, 2, 1000);
    reap_finished();
    if (ready > 0 && (fds[0].revents & POLLIN) && !stopping()) accept_one();
  }
}

void AdminServer::accept_one() {
  const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
  if (fd < 0) return;
  if (connections_.size() >= options_.max_connections) {
    (void)write_all(fd, to_line(nlohmann::json{{"error", "too many admin connections; try again later"}}));
    ::close(fd);
    return;
  }
  Connection& connection = connections_.emplace_back();
  connection.thread = std::thread([this, fd, &connection] { serve(fd, connection); });
}

void AdminServer::reap_finished() {
  for (auto it = connections_.begin(); it != connections_.end();) {
    if (!it->finished.load()) {
      ++it;
      continue;
    }
    it->thread.join();
    it = connections_.erase(it);
  }
}

void AdminServer::serve(int fd, Connection& connection) {
  name_this_thread("sw-admin-conn");
  RequestHandler handler(port_, [this] { return stopping(); }, options_.chunk);
  const RequestHandler::WriteLine write = [this, fd](const std::string& line) { return write_all(fd, line); };
  std::string buffer;
  size_t line_end = 0;
  while (read_line(fd, buffer, line_end)) {
    const std::string_view line = std::string_view(buffer).substr(0, line_end);
    const bool blank = line.find_first_not_of(" \t\r") == std::string_view::npos;
    if (!blank && !handler.handle(line, write)) break;
    buffer.erase(0, line_end + 1);
  }
  ::close(fd);
  connection.finished.store(true);
}

bool AdminServer::read_line(int fd, std::string& buffer, size_t& line_end) {
  size_t searched = 0;
  for (;;) {
    line_end = buffer.find('\n', searched);
    const size_t line_bytes = line_end == std::string::npos ? buffer.size() : line_end;
    if (line_bytes > options_.max_request_bytes) {
      (void)write_all(fd, to_line(nlohmann::json{
                              {"error", fmt::format("request over {} bytes", options_.max_request_bytes)}}));
      return false;
    }
    if (line_end != std::string::npos) return true;
    searched = buffer.size();
    pollfd fds[2] = {{fd, POLLIN, 0}, {stop_fd_, POLLIN, 0}};
    if (::poll(fds, 2, -1) < 0 && errno != EINTR) return false;
    if (stopping()) return false;
    if (!(fds[0].revents & (POLLIN | POLLHUP | POLLERR))) continue;
    char chunk[kReadSize];
    const ssize_t got = ::read(fd, chunk, sizeof(chunk));
    if (got <= 0) return false;
    buffer.append(chunk, static_cast<size_t>(got));
  }
}

bool AdminServer::write_all(int fd, const std::string& bytes) {
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t wrote = ::send(fd, bytes.data() + done, bytes.size() - done, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (wrote > 0) {
      done += static_cast<size_t>(wrote);
      continue;
    }
    if (wrote < 0 && errno != EAGAIN && errno != EINTR) return false;
    pollfd fds[2] = {{fd, POLLOUT, 0}, {stop_fd_, POLLIN, 0}};
    if (::poll(fds, 2, -1) < 0 && errno != EINTR) return false;
    if (stopping()) return false;
  }
  return true;
}

}  // namespace stellwerk::admin

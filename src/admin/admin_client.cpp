// Blocking socket I/O for the admin client; see admin_client.h.
#include "admin/admin_client.h"

#include <fmt/format.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "admin/retained_json.h"

namespace stellwerk::admin {

Result<AdminClient, std::string> AdminClient::connect(const std::string& path) {
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  if (path.empty() || path.size() >= sizeof(address.sun_path)) return fail(fmt::format("bad socket path {}", path));
  std::memcpy(address.sun_path, path.data(), path.size());
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return fail(fmt::format("socket: {}", std::strerror(errno)));
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof(address)) != 0) {
    const int error = errno;
    ::close(fd);
    return fail(fmt::format("cannot connect to the admin socket {}: {} (is the broker running with "
                            "admin_socket set?)",
                            path, std::strerror(error)));
  }
  return AdminClient(fd);
}

AdminClient::AdminClient(AdminClient&& other) noexcept : fd_(other.fd_), buffer_(std::move(other.buffer_)) {
  other.fd_ = -1;
}

AdminClient::~AdminClient() {
  if (fd_ >= 0) ::close(fd_);
}

Status<std::string> AdminClient::send(const nlohmann::json& request) {
  const std::string line = to_line(request);
  size_t done = 0;
  while (done < line.size()) {
    const ssize_t wrote = ::send(fd_, line.data() + done, line.size() - done, MSG_NOSIGNAL);
    if (wrote < 0 && errno == EINTR) continue;
    if (wrote <= 0) return fail(fmt::format("lost the connection to the broker: {}", std::strerror(errno)));
    done += static_cast<size_t>(wrote);
  }
  return {};
}

Result<nlohmann::json, std::string> AdminClient::read() {
  size_t end;
  while ((end = buffer_.find('\n')) == std::string::npos) {
    char chunk[64 * 1024];
    const ssize_t got = ::read(fd_, chunk, sizeof(chunk));
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) return fail(std::string("the broker closed the admin connection"));
    buffer_.append(chunk, static_cast<size_t>(got));
  }
  nlohmann::json line = nlohmann::json::parse(std::string_view(buffer_).substr(0, end), nullptr, false);
  buffer_.erase(0, end + 1);
  if (line.is_discarded() || !line.is_object()) return fail(std::string("the broker sent a line that is not JSON"));
  return line;
}

bool is_final(const nlohmann::json& line) { return line.contains("ok") || line.contains("error"); }

}  // namespace stellwerk::admin

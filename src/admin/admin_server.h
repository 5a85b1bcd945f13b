// The admin socket: a Unix domain socket on which `stellwerk ctl` talks to
// the running broker (protocol: request_handler.h).
//
// DESIGN. Admin traffic is rare and small next to MQTT traffic, so it stays
// off the event loops: one thread accepts, and each admin connection gets a
// thread of its own (at most max_connections; more are answered with an
// error and closed) that reads a request line, answers it through a
// RequestHandler and waits for the next. A request line longer than
// max_request_bytes is refused and the connection closed, so a client cannot
// grow the broker. A slow or stuck admin client blocks only its own thread,
// never the broker: BrokerPort calls hold the broker lock for one chunk each.
//
// The socket file gets mode 0600 before it accepts anything (bind, chmod,
// listen), so only the broker's user (and root) can manage the broker. A
// socket file left by a broker that crashed is replaced; one that still
// answers belongs to a running broker and is left alone (start fails). The
// file is removed when the server stops, if it is still ours.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <list>
#include <memory>
#include <string>
#include <thread>

#include "admin/broker_port.h"
#include "base/result.h"

namespace stellwerk::admin {

struct AdminServerOptions {
  std::string path;
  size_t max_connections = 4;
  size_t max_request_bytes = 64u << 20;  // an import chunk of large payloads fits
  size_t chunk = 1000;                   // retained messages per broker-lock hold
};

class AdminServer {
 public:
  // Opens the socket and starts the accepting thread. `port` must outlive
  // the server.
  static Result<std::unique_ptr<AdminServer>, std::string> start(AdminServerOptions options, BrokerPort& port);
  // Stops accepting, ends every admin connection, joins the threads and
  // removes the socket file.
  ~AdminServer();
  AdminServer(const AdminServer&) = delete;
  AdminServer& operator=(const AdminServer&) = delete;

 private:
  struct Connection {
    std::thread thread;
    std::atomic<bool> finished{false};
  };

  AdminServer(AdminServerOptions options, BrokerPort& port, int listen_fd, int stop_fd, ino_t inode);
  void accept_loop();
  void accept_one();
  void reap_finished();
  void serve(int fd, Connection& connection);
  // Reads until a whole line is in `buffer`; false at end, error or stop.
  bool read_line(int fd, std::string& buffer, size_t& line_end);
  bool write_all(int fd, const std::string& bytes);
  bool stopping() const { return stopping_.load(); }

  AdminServerOptions options_;
  BrokerPort& port_;
  int listen_fd_;
  int stop_fd_;  // an eventfd, readable once stopping: wakes every poll
  ino_t inode_;  // of the socket file we created, to remove only ours
  std::atomic<bool> stopping_{false};
  std::list<Connection> connections_;  // accepting thread only, then the destructor
  std::thread acceptor_;
};

}  // namespace stellwerk::admin

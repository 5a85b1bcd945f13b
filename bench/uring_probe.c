// What io_uring would save a worker, measured before building it: N TCP
// connections on 127.0.0.1; each round every client writes 16 bytes, the
// "broker" side reads each connection and answers each with 16 bytes, either
// with read()/send() per connection (what net::Worker does today) or with all
// N receives in one io_uring_enter and all N sends in another. Prints the
// broker side's CPU per connection served, the clients' CPU taken out.
//
// Not part of the build (it needs liburing, which the broker does not use):
//   apt-get install liburing-dev
//   gcc -O2 -DCONNECTIONS=10 bench/uring_probe.c -o /tmp/uring_probe -luring
//   taskset -c 0 /tmp/uring_probe
#include <arpa/inet.h>
#include <fcntl.h>
#include <liburing.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#ifndef CONNECTIONS
#define CONNECTIONS 10
#endif
#define ROUNDS 20000
#define MESSAGE_BYTES 16

static int clients[CONNECTIONS], served[CONNECTIONS];
static char buffers[CONNECTIONS][64];
static const char message[MESSAGE_BYTES + 1] = "0123456789abcdef";

static double cpu_seconds(void) {
  struct rusage usage;
  getrusage(RUSAGE_SELF, &usage);
  return (double)(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
         (double)(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
}

static void connect_all(void) {
  int listener = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in address = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  socklen_t length = sizeof address;
  if (bind(listener, (struct sockaddr*)&address, sizeof address) != 0 ||
      getsockname(listener, (struct sockaddr*)&address, &length) != 0 || listen(listener, 64) != 0) {
    perror("listener");
    exit(1);
  }
  int on = 1;
  for (int i = 0; i < CONNECTIONS; i++) {
    clients[i] = socket(AF_INET, SOCK_STREAM, 0);
    if (connect(clients[i], (struct sockaddr*)&address, sizeof address) != 0) {
      perror("connect");
      exit(1);
    }
    served[i] = accept(listener, NULL, NULL);
    setsockopt(clients[i], IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
    setsockopt(served[i], IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
    fcntl(served[i], F_SETFL, O_NONBLOCK);
  }
  close(listener);
}

static void expect(long got) {
  if (got != MESSAGE_BYTES) {
    fprintf(stderr, "short transfer: %ld\n", got);
    exit(1);
  }
}

static void serve_with_system_calls(void) {
  for (int i = 0; i < CONNECTIONS; i++) expect(read(served[i], buffers[i], sizeof buffers[i]));
  for (int i = 0; i < CONNECTIONS; i++) expect(send(served[i], message, MESSAGE_BYTES, 0));
}

static void reap(struct io_uring* ring) {
  struct io_uring_cqe* completion;
  unsigned head, seen = 0;
  io_uring_for_each_cqe(ring, head, completion) {
    expect(completion->res);
    seen++;
  }
  io_uring_cq_advance(ring, seen);
}

static void serve_with_io_uring(struct io_uring* ring) {
  for (int i = 0; i < CONNECTIONS; i++) {
    io_uring_prep_recv(io_uring_get_sqe(ring), served[i], buffers[i], sizeof buffers[i], 0);
  }
  io_uring_submit_and_wait(ring, CONNECTIONS);
  reap(ring);
  for (int i = 0; i < CONNECTIONS; i++) io_uring_prep_send(io_uring_get_sqe(ring), served[i], message, MESSAGE_BYTES, 0);
  io_uring_submit_and_wait(ring, CONNECTIONS);
  reap(ring);
}

static void measure(const char* name, struct io_uring* ring) {
  double clients_cpu = 0, started = cpu_seconds();
  for (int round = 0; round < ROUNDS; round++) {
    double before = cpu_seconds();
    for (int i = 0; i < CONNECTIONS; i++) expect(write(clients[i], message, MESSAGE_BYTES));
    clients_cpu += cpu_seconds() - before;
    if (ring) {
      serve_with_io_uring(ring);
    } else {
      serve_with_system_calls();
    }
    before = cpu_seconds();
    for (int i = 0; i < CONNECTIONS; i++) expect(read(clients[i], buffers[i], sizeof buffers[i]));
    clients_cpu += cpu_seconds() - before;
  }
  double served_cpu = cpu_seconds() - started - clients_cpu;
  printf("%d connections, %-22s %.2f us of CPU per connection served\n", CONNECTIONS, name,
         served_cpu * 1e6 / ((double)ROUNDS * CONNECTIONS));
}

int main(void) {
  connect_all();
  struct io_uring ring;
  if (io_uring_queue_init(2 * CONNECTIONS, &ring, 0) != 0) {
    fprintf(stderr, "io_uring is not available\n");
    return 1;
  }
  measure("read() and send() each:", NULL);
  measure("io_uring, 2 enters:", &ring);
  return 0;
}

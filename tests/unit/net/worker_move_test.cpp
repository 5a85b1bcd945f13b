// Worker::move_out / move_in: a live connection changes workers under the
// same id, with its queued output ahead of what the new worker queues, and
// input that arrived in between read by the new worker.
#include <gtest/gtest.h>

#include <string>
#include <thread>

#include "net/worker.h"
#include "net_test_support.h"

namespace stellwerk::net::testing {
namespace {

class WorkerMoveTest : public WorkerFixture {
 protected:
  // One client on one of two workers; `from` is its worker, `to` the other.
  void connect() {
    start(2);
    client_ = std::make_unique<TestClient>(port());
    ASSERT_TRUE(wait_until([&] { return handler_.opened().size() == 1; }));
    id_ = handler_.opened()[0].id;
    from_ = handler_.opened()[0].worker;
    to_ = 1 - from_;
  }
  MovingConnection move_out() {
    return run_on(worker(from_), [&] { return worker(from_).move_out(id_); });
  }
  void move_in(MovingConnection moving) {
    run_on(worker(to_), [&] {
      worker(to_).move_in(std::move(moving));
      return 0;
    });
  }

  std::unique_ptr<TestClient> client_;
  ConnectionId id_ = 0;
  int from_ = 0, to_ = 1;
};

TEST_F(WorkerMoveTest, OutputQueuedBeforeTheMoveLeavesFirstAndInputGoesToTheNewWorker) {
  connect();
  MovingConnection moving = run_on(worker(from_), [&] {
    worker(from_).send(id_, std::string_view("before "));  // not written yet: it travels along
    return worker(from_).move_out(id_);
  });
  ASSERT_TRUE(moving);
  EXPECT_EQ(moving.id(), id_);
  EXPECT_EQ(worker(from_).connection_count(), 0u);
  run_on(worker(to_), [&] {
    worker(to_).move_in(std::move(moving));
    worker(to_).send(id_, std::string_view("after"));
    return 0;
  });
  EXPECT_EQ(client_->read_exactly(12), "before after");
  EXPECT_EQ(worker(to_).connection_count(), 1u);

  const uint64_t read_before = worker(from_).stats().bytes_read;
  ASSERT_TRUE(client_->send_all("ping"));
  EXPECT_EQ(client_->read_exactly(4), "ping");  // echoed by whichever worker read it
  EXPECT_EQ(worker(from_).stats().bytes_read, read_before);
  EXPECT_EQ(handler_.received(id_), "ping");

  client_->close_now();
  ASSERT_TRUE(wait_until([&] { return handler_.closed().size() == 1; }));
  EXPECT_EQ(handler_.closed()[0].first, id_);
  EXPECT_EQ(total_connections(), 0u);
}

TEST_F(WorkerMoveTest, InputThatArrivedInTransitIsReadByTheNewWorker) {
  connect();
  MovingConnection moving = move_out();
  ASSERT_TRUE(moving);
  ASSERT_TRUE(client_->send_all("in transit"));
  std::this_thread::sleep_for(milliseconds(20));  // the data waits in the socket; no worker watches it
  EXPECT_EQ(handler_.bytes_received(), 0u);
  move_in(std::move(moving));
  EXPECT_EQ(client_->read_exactly(10), "in transit");
}

TEST_F(WorkerMoveTest, APausedOrClosingConnectionStaysWhereItIs) {
  connect();
  run_on(worker(from_), [&] {
    worker(from_).set_read_paused(id_, true);
    return 0;
  });
  EXPECT_FALSE(move_out());
  run_on(worker(from_), [&] {
    worker(from_).set_read_paused(id_, false);
    worker(from_).close(id_);
    return 0;
  });
  EXPECT_FALSE(move_out());
  EXPECT_EQ(client_->read_to_end(), "");  // closed by its own worker, as asked
}

TEST_F(WorkerMoveTest, AMovingConnectionDroppedOnTheWayClosesItsSocket) {
  connect();
  {
    MovingConnection moving = move_out();
    ASSERT_TRUE(moving);
  }
  EXPECT_EQ(client_->read_to_end(), "");
}

}  // namespace
}  // namespace stellwerk::net::testing

// WorkerOptions::wakeup_coalescing: a worker woken by a steady trickle takes
// it in fewer turns; sparse input and timers are not held back, and a worker
// asleep most of the time does not pause at all. The pauses here are far
// longer than in use so that slow test machines cannot blur the difference;
// every bound leaves a wide margin.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>

#include "net/worker.h"
#include "net_test_support.h"

namespace stellwerk::net::testing {
namespace {

using Coalescing = WorkerFixture;
using SteadyClock = std::chrono::steady_clock;

// Pausing whenever the worker wakes often, however idle it is: the tests
// below are about the pauses, not about when they pay.
WorkerOptions coalescing_for(Duration pause) {
  WorkerOptions options;
  options.wakeup_coalescing = pause;
  options.pause_from_busy_share = 0;
  return options;
}

// One byte every millisecond: without coalescing nearly a turn each.
std::string trickle(TestClient& client, int bytes) {
  std::string sent;
  for (int i = 0; i < bytes; ++i) {
    char byte = static_cast<char>('a' + i % 26);
    EXPECT_TRUE(client.send_all(std::string_view(&byte, 1)));
    sent += byte;
    std::this_thread::sleep_for(milliseconds(1));
  }
  return sent;
}

TEST_F(Coalescing, AWorkerWokenOftenTakesATrickleInFewTurns) {
  start(1, coalescing_for(milliseconds(20)));
  TestClient client(port());
  constexpr int kBytes = 200;
  uint64_t turns_before = worker(0).stats().loop_turns;
  std::string sent = trickle(client, kBytes);
  EXPECT_EQ(client.read_exactly(sent.size()), sent);  // all of it, in order
  uint64_t turns = worker(0).stats().loop_turns - turns_before;
  // About three turns per 20 ms pause over some 200 ms; one per byte without.
  EXPECT_LT(turns, kBytes / 2u) << turns << " turns";
  EXPECT_GT(worker(0).stats().pauses, 0u);
}

// A trickle that keeps the worker asleep most of the time: a pause would
// only delay each byte, since the worker has CPU to spare.
TEST_F(Coalescing, AWorkerAsleepMostOfTheTimeDoesNotPause) {
  WorkerOptions options;
  options.wakeup_coalescing = milliseconds(20);
  start(1, options);
  TestClient client(port());
  constexpr int kBytes = 200;
  std::string sent = trickle(client, kBytes);
  EXPECT_EQ(client.read_exactly(sent.size()), sent);
  EXPECT_EQ(worker(0).stats().pauses, 0u);
}

TEST_F(Coalescing, AnExchangeAfterQuietIsAnsweredWithoutAPause) {
  constexpr auto kPause = milliseconds(400);
  start(1, coalescing_for(kPause));
  TestClient client(port());
  for (int round = 0; round < 3; ++round) {
    // Longer than the pause, so the worker's last sleep was a long one.
    std::this_thread::sleep_for(milliseconds(500));
    // A question, and a second one shortly after the answer: the worker
    // takes the second one while it still counts as quiet.
    for (const char* question : {"x", "y"}) {
      std::this_thread::sleep_for(milliseconds(5));  // the worker is back in its idle look
      auto sent_at = SteadyClock::now();
      ASSERT_TRUE(client.send_all(question));
      ASSERT_EQ(client.read_exactly(1), question);
      EXPECT_LT(SteadyClock::now() - sent_at, kPause / 2) << "round " << round << ", " << question;
    }
  }
}

TEST_F(Coalescing, APauseEndsWhenATimerFallsDue) {
  constexpr auto kPause = seconds(2);  // also how long the worker takes to stop after it
  start(1, coalescing_for(kPause));
  // Quiet for longer than the pause, so that the worker's next wake-up does
  // not count as frequent and it goes back to sleep after it. (A first post
  // that reached a worker that had just gone to sleep would make it pause
  // with no timer to end the pause, and the second post would wait for it.)
  std::this_thread::sleep_for(kPause + milliseconds(300));
  run_on(worker(0), [] { return 0; });
  std::this_thread::sleep_for(milliseconds(10));
  // This post wakes the worker 10 ms after its last turn, a short sleep, so
  // its next idle look pauses, and only the timer can cut that pause short.
  std::atomic<bool> fired{false};
  auto armed_at = SteadyClock::now();
  run_on(worker(0), [&] {
    worker(0).schedule(worker(0).now() + milliseconds(300), [&] { fired = true; });
    return 0;
  });
  ASSERT_TRUE(wait_until([&] { return fired.load(); }));
  EXPECT_LT(SteadyClock::now() - armed_at, kPause * 3 / 4);
}

}  // namespace
}  // namespace stellwerk::net::testing

// When a broker call's store records may wait for the end of its worker's
// loop turn (server/turn_commits.h): only while a turn end is still ahead.
#include "server/turn_commits.h"

#include <gtest/gtest.h>

namespace stellwerk::server {
namespace {

const TimePoint kTurn1 = TimePoint(std::chrono::milliseconds(10));
const TimePoint kTurn2 = TimePoint(std::chrono::milliseconds(11));

TEST(TurnCommitsTest, SeveralCallsOfATurnCommitOnceAtItsEnd) {
  TurnCommits turns(1);
  EXPECT_TRUE(turns.defer(0, kTurn1));
  EXPECT_TRUE(turns.defer(0, kTurn1));
  EXPECT_TRUE(turns.defer(0, kTurn1));
  EXPECT_TRUE(turns.end_turn(0, kTurn1));
}

TEST(TurnCommitsTest, ATurnWithoutBrokerCallsCommitsNothing) {
  TurnCommits turns(1);
  EXPECT_FALSE(turns.end_turn(0, kTurn1));
  EXPECT_TRUE(turns.defer(0, kTurn2));
  EXPECT_TRUE(turns.end_turn(0, kTurn2));
  EXPECT_FALSE(turns.end_turn(0, TimePoint(std::chrono::milliseconds(12))));
}

TEST(TurnCommitsTest, CallsAfterTheTurnEndedCommitAtOnce) {
  // A failed write during the turn's writes closes its connection: that
  // on_close has no turn end ahead of it.
  TurnCommits turns(1);
  EXPECT_TRUE(turns.defer(0, kTurn1));
  EXPECT_TRUE(turns.end_turn(0, kTurn1));
  EXPECT_FALSE(turns.defer(0, kTurn1));
  EXPECT_TRUE(turns.defer(0, kTurn2));  // the next turn defers again
  EXPECT_TRUE(turns.end_turn(0, kTurn2));
}

TEST(TurnCommitsTest, EachWorkerCommitsItsOwnTurn) {
  TurnCommits turns(2);
  EXPECT_TRUE(turns.defer(1, kTurn1));
  EXPECT_FALSE(turns.end_turn(0, kTurn1));  // worker 0 made no call
  EXPECT_TRUE(turns.defer(0, kTurn2));
  EXPECT_TRUE(turns.end_turn(1, kTurn1));
  EXPECT_TRUE(turns.end_turn(0, kTurn2));
}

}  // namespace
}  // namespace stellwerk::server

// Output held for the store (server/held_output.h): released in send order,
// never before the sequence it waits for is durable.
#include "server/held_output.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace stellwerk::server {
namespace {

class HeldOutputTest : public ::testing::Test {
 protected:
  void hold(std::vector<std::string> items, uint64_t sequence) {
    OutputBatch staged;
    for (const std::string& bytes : items) staged.add(1, bytes, false);
    held.hold(staged, sequence);
  }
  std::vector<std::string> release(uint64_t durable) {
    std::vector<std::string> out;
    held.release(durable, [&](OutputBatch& from, const OutputBatch::Item& item) {
      out.emplace_back(from.bytes_of(item));
    });
    return out;
  }

  HeldOutput held;
};

using Strings = std::vector<std::string>;

TEST_F(HeldOutputTest, NothingLeavesBeforeItsSequenceIsDurable) {
  hold({"puback 1"}, 5);
  EXPECT_TRUE(release(4).empty());
  EXPECT_EQ(release(5), Strings{"puback 1"});
  EXPECT_TRUE(held.empty());
}

TEST_F(HeldOutputTest, ATurnsOutputLeavesTogetherOnceAllItsRecordsAreDurable) {
  // Calls of one turn: their records are committed together at its end.
  hold({"connack"}, 3);
  hold({"puback", "publish"}, 7);
  EXPECT_TRUE(release(3).empty());
  EXPECT_EQ(release(7), (Strings{"connack", "puback", "publish"}));
}

TEST_F(HeldOutputTest, OutputAfterACommitDoesNotDelayWhatWasCommitted) {
  hold({"suback"}, 3);
  held.close();
  hold({"puback"}, 9);
  EXPECT_EQ(release(3), Strings{"suback"});
  EXPECT_EQ(release(9), Strings{"puback"});
}

TEST_F(HeldOutputTest, OutputWithoutRecordsWaitsBehindHeldOutput) {
  hold({"puback"}, 4);
  held.close();
  hold({"qos 0 publish"}, 0);  // order per connection
  EXPECT_TRUE(release(3).empty());
  EXPECT_EQ(release(4), (Strings{"puback", "qos 0 publish"}));
}

TEST_F(HeldOutputTest, LargeItemsAndClosesKeepTheirPlace) {
  const std::string large(OutputBatch::kSmallItem + 1, 'x');
  OutputBatch staged;
  staged.add(1, "small", false);
  staged.add(1, large, false);
  staged.add_close(1);
  held.hold(staged, 2);
  std::vector<std::string> out;
  std::vector<bool> closes;
  held.release(2, [&](OutputBatch& from, const OutputBatch::Item& item) {
    out.emplace_back(from.bytes_of(item));
    closes.push_back(item.close);
  });
  EXPECT_EQ(out, (Strings{"small", large, ""}));
  EXPECT_EQ(closes, (std::vector<bool>{false, false, true}));
}

TEST_F(HeldOutputTest, ReusedChunksStartEmpty) {
  hold({"first"}, 1);
  EXPECT_EQ(release(1), Strings{"first"});
  hold({"second"}, 2);
  EXPECT_EQ(release(2), Strings{"second"});
}

}  // namespace
}  // namespace stellwerk::server

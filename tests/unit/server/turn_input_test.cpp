// TurnInput: a worker's reads of one turn come back in the order read, each
// with its connection, and the buffer says when it should be handed over.
#include "server/turn_input.h"

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

namespace stellwerk::server {
namespace {

std::span<const uint8_t> bytes_of(const std::string& text) {
  return {reinterpret_cast<const uint8_t*>(text.data()), text.size()};
}

std::vector<std::pair<net::ConnectionId, std::string>> taken(TurnInput& input) {
  std::vector<std::pair<net::ConnectionId, std::string>> out;
  input.take([&](net::ConnectionId id, std::span<const uint8_t> bytes) {
    out.emplace_back(id, std::string(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
  });
  return out;
}

TEST(TurnInput, GivesBackEveryReadInOrderWithItsConnection) {
  TurnInput input;
  // The read buffer is reused between reads: each read must be copied.
  std::string read_buffer = "first";
  input.add(1, bytes_of(read_buffer));
  read_buffer = "second";
  input.add(2, bytes_of(read_buffer));
  read_buffer = "third";
  input.add(1, bytes_of(read_buffer));
  EXPECT_FALSE(input.empty());
  const std::vector<std::pair<net::ConnectionId, std::string>> expected{
      {1, "first"}, {2, "second"}, {1, "third"}};
  EXPECT_EQ(taken(input), expected);
  EXPECT_TRUE(input.empty());
  EXPECT_TRUE(taken(input).empty());
}

TEST(TurnInput, IsFullPastTheFlushSize) {
  TurnInput input;
  const std::string chunk(TurnInput::kFlushBytes / 2, 'x');
  input.add(1, bytes_of(chunk));
  EXPECT_FALSE(input.full());
  input.add(1, bytes_of(chunk));
  EXPECT_TRUE(input.full());
  EXPECT_EQ(taken(input).size(), 2u);
  EXPECT_FALSE(input.full());
}

}  // namespace
}  // namespace stellwerk::server

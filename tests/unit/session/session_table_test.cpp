// SessionTable: sessions found by client id through the table's growth, and
// Session references that stay valid while other sessions come and go.
#include "session/session_table.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace stellwerk::session {
namespace {

std::string client_id(int i) { return "client-id-longer-than-sso-" + std::to_string(i); }

TEST(SessionTable, FindsEverySessionByClientIdAsItGrows) {
  SessionTable table;
  std::vector<Session*> made;
  for (int i = 0; i < 5000; ++i) {
    auto session = std::make_unique<Session>(static_cast<SessionId>(i + 1), client_id(i));
    made.push_back(session.get());
    table.emplace(client_id(i), std::move(session));
  }
  EXPECT_EQ(table.size(), 5000u);
  for (int i = 0; i < 5000; ++i) ASSERT_EQ(table.find(client_id(i)), made[static_cast<size_t>(i)]) << i;
  EXPECT_EQ(table.find("nobody"), nullptr);
  EXPECT_EQ(table.find(""), nullptr);
}

TEST(SessionTable, EraseEndsOnlyThatSession) {
  SessionTable table;
  for (int i = 0; i < 100; ++i) {
    table.emplace(client_id(i), std::make_unique<Session>(static_cast<SessionId>(i + 1), client_id(i)));
  }
  Session* kept = table.find(client_id(99));
  for (int i = 0; i < 99; i += 2) table.erase(*table.find(client_id(i)));
  EXPECT_EQ(table.size(), 50u);
  EXPECT_EQ(table.find(client_id(99)), kept);
  EXPECT_EQ(kept->client_id(), client_id(99));
  for (int i = 0; i < 100; ++i) EXPECT_EQ(table.find(client_id(i)) != nullptr, i % 2 == 1) << i;
  size_t visited = 0;
  table.for_each([&](Session& session) {
    EXPECT_EQ(table.find(session.client_id()), &session);
    ++visited;
  });
  EXPECT_EQ(visited, 50u);
}

TEST(SessionTable, AnEmptyClientIdIsAKeyLikeAnyOther) {
  SessionTable table;
  table.emplace("", std::make_unique<Session>(1, ""));
  ASSERT_NE(table.find(""), nullptr);
  table.erase(*table.find(""));
  EXPECT_EQ(table.size(), 0u);
}

}  // namespace
}  // namespace stellwerk::session

// The public id -> member map of properties.h (for_each_property_field) is
// the one map both the v5 codec and the store use, so it must name every
// single-valued Properties member exactly once, under the id Table 2-4 gives
// it: 25 distinct ids, and each of the 25 members found under its own id.
#include <gtest/gtest.h>

#include <set>
#include <type_traits>

#include "mqtt/properties.h"

namespace stellwerk::mqtt::wire {
namespace {

TEST(PropertyFields, IdsAreDistinctAndLeaveOutTheRepeatedProperties) {
  std::set<uint8_t> ids;
  size_t visited = 0;
  for_each_property_field([&](const auto& field) {
    ids.insert(field.id);
    ++visited;
  });
  EXPECT_EQ(visited, 25u);
  EXPECT_EQ(ids.size(), visited);
  EXPECT_FALSE(ids.contains(kSubscriptionIdentifierId));
  EXPECT_FALSE(ids.contains(kUserPropertyId));
  EXPECT_FALSE(ids.contains(0));
}

template <typename T, typename U>
bool same_member(std::optional<T> Properties::*a, std::optional<U> Properties::*b) {
  if constexpr (std::is_same_v<T, U>) {
    return a == b;
  } else {
    return false;
  }
}

template <typename T>
int id_of(std::optional<T> Properties::*member) {
  int found = -1;
  for_each_property_field([&](const auto& field) {
    if (same_member(field.member, member)) found = field.id;
  });
  return found;
}

TEST(PropertyFields, EverySingleValuedMemberHasItsTable24Id) {
  EXPECT_EQ(id_of(&Properties::payload_format_indicator), 0x01);
  EXPECT_EQ(id_of(&Properties::message_expiry_interval), 0x02);
  EXPECT_EQ(id_of(&Properties::content_type), 0x03);
  EXPECT_EQ(id_of(&Properties::response_topic), 0x08);
  EXPECT_EQ(id_of(&Properties::correlation_data), 0x09);
  EXPECT_EQ(id_of(&Properties::session_expiry_interval), 0x11);
  EXPECT_EQ(id_of(&Properties::assigned_client_identifier), 0x12);
  EXPECT_EQ(id_of(&Properties::server_keep_alive), 0x13);
  EXPECT_EQ(id_of(&Properties::authentication_method), 0x15);
  EXPECT_EQ(id_of(&Properties::authentication_data), 0x16);
  EXPECT_EQ(id_of(&Properties::request_problem_information), 0x17);
  EXPECT_EQ(id_of(&Properties::will_delay_interval), 0x18);
  EXPECT_EQ(id_of(&Properties::request_response_information), 0x19);
  EXPECT_EQ(id_of(&Properties::response_information), 0x1A);
  EXPECT_EQ(id_of(&Properties::server_reference), 0x1C);
  EXPECT_EQ(id_of(&Properties::reason_string), 0x1F);
  EXPECT_EQ(id_of(&Properties::receive_maximum), 0x21);
  EXPECT_EQ(id_of(&Properties::topic_alias_maximum), 0x22);
  EXPECT_EQ(id_of(&Properties::topic_alias), 0x23);
  EXPECT_EQ(id_of(&Properties::maximum_qos), 0x24);
  EXPECT_EQ(id_of(&Properties::retain_available), 0x25);
  EXPECT_EQ(id_of(&Properties::maximum_packet_size), 0x27);
  EXPECT_EQ(id_of(&Properties::wildcard_subscription_available), 0x28);
  EXPECT_EQ(id_of(&Properties::subscription_identifier_available), 0x29);
  EXPECT_EQ(id_of(&Properties::shared_subscription_available), 0x2A);
}

}  // namespace
}  // namespace stellwerk::mqtt::wire

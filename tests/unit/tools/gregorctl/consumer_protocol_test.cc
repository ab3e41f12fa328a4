// The consumer protocol's Subscription/Assignment bytes: round trips at every version, empty
// and truncated input, and newer versions read as far as we know them.
#include "tools/gregorctl/consumer_protocol.h"

#include <gtest/gtest.h>

namespace gregor::tools {
namespace {

TEST(ConsumerProtocol, AssignmentRoundTrip) {
  ConsumerAssignment a;
  a.version = 1;
  a.partitions = {{"orders", {0, 2}}, {"audit", {}}};
  a.user_data = std::string("\x00\x01", 2);
  auto back = decode_consumer_assignment(encode_consumer_assignment(a));
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->version, 1);
  EXPECT_EQ(back->partitions, a.partitions);
  EXPECT_EQ(back->user_data, a.user_data);
}

TEST(ConsumerProtocol, EmptyBytesAreAnEmptyAssignment) {
  auto a = decode_consumer_assignment("");
  ASSERT_TRUE(a.ok());
  EXPECT_TRUE(a->partitions.empty());
  auto s = decode_consumer_subscription("");
  ASSERT_TRUE(s.ok());
  EXPECT_TRUE(s->topics.empty());
}

TEST(ConsumerProtocol, TruncatedOrNegativeIsDataLoss) {
  ConsumerAssignment a;
  a.partitions = {{"orders", {0, 1, 2}}};
  std::string bytes = encode_consumer_assignment(a);
  for (size_t cut = 1; cut + 4 < bytes.size(); ++cut) {
    EXPECT_FALSE(decode_consumer_assignment(bytes.substr(0, cut)).ok()) << cut;
  }
  EXPECT_FALSE(decode_consumer_assignment(std::string("\xff\xff\x00\x00\x00\x00", 6)).ok());
}

TEST(ConsumerProtocol, AssignmentWithoutUserDataIsAccepted) {
  ConsumerAssignment a;
  a.partitions = {{"t", {3}}};
  std::string bytes = encode_consumer_assignment(a);
  bytes.resize(bytes.size() - 4);  // drop the null user_data
  auto back = decode_consumer_assignment(bytes);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->partitions, a.partitions);
  EXPECT_FALSE(back->user_data.has_value());
}

TEST(ConsumerProtocol, SubscriptionRoundTripAtEveryVersion) {
  for (int16_t version = 0; version <= 3; ++version) {
    ConsumerSubscription s;
    s.version = version;
    s.topics = {"orders", "audit"};
    s.user_data = "ud";
    if (version >= 1) s.owned_partitions = {{"orders", {1}}};
    if (version >= 2) s.generation_id = 7;
    if (version >= 3) s.rack_id = "rack-a";
    auto back = decode_consumer_subscription(encode_consumer_subscription(s));
    ASSERT_TRUE(back.ok()) << back.status();
    EXPECT_EQ(back->topics, s.topics);
    EXPECT_EQ(back->user_data, s.user_data);
    EXPECT_EQ(back->owned_partitions, s.owned_partitions);
    EXPECT_EQ(back->generation_id, s.generation_id);
    EXPECT_EQ(back->rack_id, s.rack_id);
  }
}

TEST(ConsumerProtocol, NewerVersionsReadAsFarAsKnown) {
  ConsumerSubscription s;
  s.version = 3;
  s.topics = {"t"};
  s.rack_id = "r";
  std::string bytes = encode_consumer_subscription(s);
  bytes[1] = 9;  // version 9 with fields we do not know appended
  bytes += "\x00\x00\x00\x05";
  auto back = decode_consumer_subscription(bytes);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->version, 9);
  EXPECT_EQ(back->topics, s.topics);
  EXPECT_EQ(back->rack_id, "r");
}

}  // namespace
}  // namespace gregor::tools

// __consumer_offsets record layouts, Kafka's group -> partition hashing, consumer subscriptions.
#include "coordinator/group_records.h"

#include <gtest/gtest.h>

#include "coordinator/consumer_protocol.h"
#include "coordinator/group.h"
#include "group_test_util.h"

namespace gregor::coordinator {
namespace {

TEST(GroupRecords, JavaStringHashMatchesJava) {
  // Values printed by Java's String.hashCode (jshell, OpenJDK 17).
  EXPECT_EQ(java_string_hash("my-group"), -1906497762);
  EXPECT_EQ(java_string_hash("test-consumer-group"), -1793216381);
  EXPECT_EQ(java_string_hash("h\xC3\xA9llo\xF0\x9F\x98\x80"), 291564465);  // "héllo😀": surrogates
  EXPECT_EQ(java_string_hash("polygenelubricants"), INT32_MIN);
  EXPECT_EQ(java_string_hash(""), 0);
}

TEST(GroupRecords, PartitionForUsesKafkasAbs) {
  EXPECT_EQ(offsets_partition_for("my-group", 50), 1906497762 % 50);
  EXPECT_EQ(offsets_partition_for("my-group", 50), 12);
  EXPECT_EQ(offsets_partition_for("test-consumer-group", 50), 1793216381 % 50);
  // Utils.abs(Integer.MIN_VALUE) is 0, not MIN_VALUE.
  EXPECT_EQ(offsets_partition_for("polygenelubricants", 50), 0);
  EXPECT_EQ(offsets_partition_for("anything", 1), 0);
}

TEST(GroupRecords, InvalidUtf8HashesAsReplacementCharacter) {
  // A lone continuation byte decodes to U+FFFD, as Java's decoder does.
  EXPECT_EQ(java_string_hash("\x80"), 0xFFFD);
  EXPECT_EQ(java_string_hash("a\xC3"), 'a' * 31 + 0xFFFD);
}

TEST(GroupRecords, OffsetKeyLayout) {
  const std::string k = encode_offset_key({"g", "t", 7});
  const std::string want = std::string("\x00\x01", 2) + std::string("\x00\x01g", 3) +
                           std::string("\x00\x01t", 3) + std::string("\x00\x00\x00\x07", 4);
  EXPECT_EQ(k, want);
  auto d = decode_key(k);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(std::get<OffsetKey>(*d), (OffsetKey{"g", "t", 7}));
  // Version 0 keys (older brokers) read the same way.
  std::string v0 = k;
  v0[1] = 0;
  EXPECT_EQ(std::get<OffsetKey>(*decode_key(v0)), (OffsetKey{"g", "t", 7}));
}

TEST(GroupRecords, GroupKeyLayout) {
  const std::string k = encode_group_key({"grp"});
  EXPECT_EQ(k, std::string("\x00\x02\x00\x03grp", 7));
  EXPECT_EQ(std::get<GroupKey>(*decode_key(k)).group, "grp");
}

TEST(GroupRecords, ValuesRoundTrip) {
  protocol::msg::OffsetCommitValue v;
  v.offset = 42;
  v.leader_epoch = 5;
  v.metadata = "meta";
  v.commit_timestamp = 1000;
  const std::string bytes = encode_offset_value(v);
  EXPECT_EQ(bytes.substr(0, 2), std::string("\x00\x03", 2));
  auto back = decode_offset_value(bytes);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, v);

  v.expire_timestamp = 5000;  // written as v1, which has no leader epoch
  const std::string v1 = encode_offset_value(v);
  EXPECT_EQ(v1.substr(0, 2), std::string("\x00\x01", 2));
  EXPECT_EQ(decode_offset_value(v1)->expire_timestamp, 5000);
  EXPECT_EQ(decode_offset_value(v1)->leader_epoch, -1);

  protocol::msg::GroupMetadataValue g;
  g.protocol_type = "consumer";
  g.generation = 3;
  g.protocol = "range";
  g.leader = "m1";
  g.current_state_timestamp = 77;
  g.members.push_back({"m1", "i1", "c", "/h", 30000, 10000, "sub", "assign"});
  const std::string gb = encode_group_value(g);
  EXPECT_EQ(gb.substr(0, 2), std::string("\x00\x03", 2));
  EXPECT_EQ(*decode_group_value(gb), g);
}

TEST(GroupRecords, BadInputIsAnError) {
  EXPECT_FALSE(decode_key("").ok());
  EXPECT_FALSE(decode_key(std::string("\x00", 1)).ok());
  EXPECT_FALSE(decode_key(std::string("\x00\x03\x00\x01g", 5)).ok());  // unknown key version
  EXPECT_FALSE(decode_key(std::string("\x00\x01\x00\x05g", 5)).ok());  // truncated string
  EXPECT_FALSE(decode_offset_value(std::string("\x00\x09", 2)).ok());
  EXPECT_FALSE(decode_offset_value(std::string("\x00\x03\x00", 3)).ok());
  EXPECT_FALSE(decode_group_value(std::string("\xff\xff", 2)).ok());
  EXPECT_FALSE(decode_group_value(std::string("\x00\x03\x00\x01", 4)).ok());
}

TEST(ConsumerProtocol, ParsesSubscribedTopics) {
  auto topics = parse_subscribed_topics(testing::subscription({"b", "a"}));
  ASSERT_TRUE(topics.has_value());
  EXPECT_EQ(*topics, (std::set<std::string>{"a", "b"}));
  EXPECT_FALSE(parse_subscribed_topics("").has_value());
  EXPECT_FALSE(parse_subscribed_topics(std::string("\x00\x00\x7f\xff\xff\xff", 6)).has_value());
  EXPECT_FALSE(parse_subscribed_topics(std::string("\x00\x00\x00\x00\x00\x01\x00\x09x", 9)));
}

TEST(GroupState, NamesParseCaseInsensitively) {
  EXPECT_EQ(group_state_name(GroupState::kCompletingRebalance), "CompletingRebalance");
  EXPECT_EQ(parse_group_state("stable"), GroupState::kStable);
  EXPECT_EQ(parse_group_state("PREPARINGREBALANCE"), GroupState::kPreparingRebalance);
  EXPECT_FALSE(parse_group_state("Stabl").has_value());
}

TEST(GroupProtocols, SelectionByVotes) {
  Group g("g", 0);
  auto add = [&](const std::string& id, std::vector<std::string> names) {
    Member m;
    m.member_id = id;
    m.protocol_type = "consumer";
    for (auto& n : names) m.protocols.push_back({n, "md-" + n});
    g.add(std::move(m));
  };
  add("a", {"roundrobin", "range"});
  add("b", {"range", "roundrobin", "sticky"});
  add("c", {"range", "roundrobin"});
  EXPECT_EQ(g.select_protocol(), "range");
  EXPECT_EQ(g.leader_id, "a");
  EXPECT_EQ(g.protocol_type, "consumer");
  EXPECT_TRUE(g.supports_protocols("consumer", {{"roundrobin", ""}}));
  EXPECT_FALSE(g.supports_protocols("consumer", {{"sticky", ""}}));
  EXPECT_FALSE(g.supports_protocols("connect", {{"range", ""}}));
  g.remove("a");
  EXPECT_EQ(g.leader_id, "b");
  Group empty("e", 0);
  EXPECT_FALSE(empty.supports_protocols("", {{"range", ""}}));
  EXPECT_FALSE(empty.supports_protocols("consumer", {}));
}

}  // namespace
}  // namespace gregor::coordinator

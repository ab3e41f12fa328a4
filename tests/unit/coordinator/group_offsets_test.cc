// The offset store: commit/fetch rules, durability before the answer, retention, deletes, and
// rebuilding everything from the __consumer_offsets records.
#include <gtest/gtest.h>

#include "coordinator/group_records.h"
#include "group_test_util.h"

namespace gregor::coordinator {
namespace {

using testing::GroupFixture;
using testing::subscription;

OffsetCommitPartition P(std::string topic, int32_t partition, int64_t offset,
                        int32_t leader_epoch = -1,
                        std::optional<std::string> metadata = std::nullopt) {
  return {std::move(topic), partition, offset, leader_epoch, std::move(metadata)};
}

class GroupOffsetsTest : public GroupFixture {
 protected:
  testing::Answer<std::vector<TopicPartitionError>> commit(const std::string& group,
                                                           std::vector<OffsetCommitPartition> parts,
                                                           int32_t generation = -1,
                                                           const std::string& member = "",
                                                           int64_t retention = -1) {
    OffsetCommitRequest r;
    r.group_id = group;
    r.generation_id = generation;
    r.member_id = member;
    r.retention_time_ms = retention;
    r.partitions = std::move(parts);
    testing::Answer<std::vector<TopicPartitionError>> a;
    coord->commit_offsets(std::move(r), a.callback());
    return a;
  }
  FetchedOffset fetch_one(const std::string& group, const std::string& topic, int32_t p) {
    auto r = coord->fetch_offsets(group, std::vector<OffsetFetchTopic>{{topic, {p}}});
    EXPECT_EQ(r.partitions.size(), 1u);
    return r.partitions.at(0);
  }
  // A consumer group Stable at generation 1 subscribed to `topics`; returns the member id.
  std::string stable_member(const std::string& group, std::vector<std::string> topics) {
    auto first = join(group, "");
    auto j = join(join_request(group, first->member_id, {{"range", subscription(topics)}}));
    EXPECT_TRUE(j.ready());
    sync(group, j->member_id, j->generation_id, {{j->member_id, "A"}});
    return j->member_id;
  }
};

TEST_F(GroupOffsetsTest, SimpleCommitCreatesGroupAndFetchReturnsIt) {
  auto c = commit("g", {P("t", 0, 42, 7, "meta"), P("t", 1, 10, -1, std::nullopt)});
  ASSERT_TRUE(c.ready());
  EXPECT_EQ(*c, (std::vector<TopicPartitionError>{{"t", 0, ErrorCode::kNone},
                                                  {"t", 1, ErrorCode::kNone}}));
  FetchedOffset f = fetch_one("g", "t", 0);
  EXPECT_EQ(f.offset, 42);
  EXPECT_EQ(f.leader_epoch, 7);
  EXPECT_EQ(f.metadata, "meta");
  EXPECT_EQ(fetch_one("g", "t", 1).metadata, "");  // null metadata is stored as ""
  FetchedOffset unknown = fetch_one("g", "t", 9);
  EXPECT_EQ(unknown.offset, -1);
  EXPECT_EQ(unknown.leader_epoch, -1);
  EXPECT_EQ(unknown.error, ErrorCode::kNone);
  EXPECT_EQ(fetch_one("missing", "t", 0).offset, -1);
  EXPECT_EQ(coord->fetch_offsets("g", std::nullopt).partitions.size(), 2u);
  EXPECT_TRUE(coord->fetch_offsets("missing", std::nullopt).partitions.empty());
  EXPECT_EQ(state("g"), "Empty");
  // Written as OffsetCommit records to the group's partition.
  ASSERT_EQ(log.appends.size(), 1u);
  EXPECT_EQ(log.appends[0].partition, offsets_partition_for("g", 50));
  EXPECT_EQ(std::get<OffsetKey>(*decode_key(log.appends[0].records[0].key)),
            (OffsetKey{"g", "t", 0}));
  EXPECT_EQ(decode_offset_value(*log.appends[0].records[0].value)->offset, 42);
}

TEST_F(GroupOffsetsTest, CommitGenerationAndMemberRules) {
  // A generation without a group: a stale member of a group that no longer exists.
  EXPECT_EQ((*commit("nope", {P("t", 0, 1)}, 3, "m"))[0].error, ErrorCode::kIllegalGeneration);
  EXPECT_TRUE(coord->list_groups({}).empty());

  // Generation -1 may commit to an Empty group whatever member id it names (Kafka 3.x).
  EXPECT_EQ((*commit("e", {P("t", 0, 1)}))[0].error, ErrorCode::kNone);
  EXPECT_EQ((*commit("e", {P("t", 0, 2)}, -1, "someone"))[0].error, ErrorCode::kNone);

  const std::string m = stable_member("g", {"t"});
  EXPECT_EQ((*commit("g", {P("t", 0, 1)}))[0].error, ErrorCode::kUnknownMemberId);
  EXPECT_EQ((*commit("g", {P("t", 0, 1)}, 1, "other"))[0].error, ErrorCode::kUnknownMemberId);
  EXPECT_EQ((*commit("g", {P("t", 0, 1)}, 0, m))[0].error, ErrorCode::kIllegalGeneration);
  EXPECT_EQ((*commit("g", {P("t", 0, 5)}, 1, m))[0].error, ErrorCode::kNone);
  EXPECT_EQ(fetch_one("g", "t", 0).offset, 5);

  // Another member joins: during PreparingRebalance the old generation may still commit.
  auto [b, jb] = join_new("g");
  EXPECT_EQ((*commit("g", {P("t", 0, 6)}, 1, m))[0].error, ErrorCode::kNone);
  auto ja = join(join_request("g", m, {{"range", subscription({"t"})}}));
  ASSERT_TRUE(ja.ready());
  // CompletingRebalance: the member has a generation but no assignment yet.
  EXPECT_EQ((*commit("g", {P("t", 0, 7)}, 2, m))[0].error, ErrorCode::kRebalanceInProgress);
  EXPECT_EQ(fetch_one("g", "t", 0).offset, 6);
}

TEST_F(GroupOffsetsTest, MetadataTooLargeFailsOnlyThatPartition) {
  auto c = commit("g", {P("t", 0, 1, -1, std::string(4097, 'x')), P("t", 1, 2, -1, "ok")});
  EXPECT_EQ((*c)[0].error, ErrorCode::kOffsetMetadataTooLarge);
  EXPECT_EQ((*c)[1].error, ErrorCode::kNone);
  EXPECT_EQ(fetch_one("g", "t", 0).offset, -1);
  EXPECT_EQ(fetch_one("g", "t", 1).offset, 2);
  auto all_bad = commit("h", {P("t", 0, 1, -1, std::string(5000, 'x'))});
  EXPECT_EQ((*all_bad)[0].error, ErrorCode::kOffsetMetadataTooLarge);
  EXPECT_EQ(state("h"), "Dead");  // nothing was stored, so no group was left behind
}

TEST_F(GroupOffsetsTest, CommitAnswersOnlyWhenDurable) {
  log.hold = true;
  auto c = commit("g", {P("t", 0, 42)});
  EXPECT_FALSE(c.ready());
  EXPECT_EQ(fetch_one("g", "t", 0).offset, -1);
  log.complete_held();
  ASSERT_TRUE(c.ready());
  EXPECT_EQ(fetch_one("g", "t", 0).offset, 42);

  auto failed = commit("g", {P("t", 0, 99)});
  log.complete_held(absl::UnavailableError("no disk"));
  ASSERT_TRUE(failed.ready());
  EXPECT_EQ((*failed)[0].error, ErrorCode::kCoordinatorNotAvailable);
  EXPECT_EQ(fetch_one("g", "t", 0).offset, 42);
}

TEST_F(GroupOffsetsTest, StandaloneOffsetsExpireAfterRetentionAndGroupGoes) {
  GroupConfig cfg = default_config();
  cfg.offsets_retention_ms = 100000;
  cfg.offsets_retention_check_interval_ms = 1000;
  reset(cfg);
  commit("g", {P("t", 0, 1)});
  advance(50000);
  commit("g", {P("t", 1, 1)});
  advance(50000);  // t-0 is 100 s old
  EXPECT_EQ(fetch_one("g", "t", 0).offset, -1);
  EXPECT_EQ(fetch_one("g", "t", 1).offset, 1);
  const auto& tomb = log.appends.back().records;
  ASSERT_EQ(tomb.size(), 1u);
  EXPECT_FALSE(tomb[0].value.has_value());
  advance(50000);
  EXPECT_EQ(state("g"), "Dead");
  EXPECT_TRUE(coord->list_groups({}).empty());
  // The last write removed the offset and the group.
  const auto& last = log.appends.back().records;
  ASSERT_EQ(last.size(), 2u);
  EXPECT_TRUE(std::holds_alternative<GroupKey>(*decode_key(last[1].key)));
  EXPECT_FALSE(last[1].value.has_value());
}

TEST_F(GroupOffsetsTest, ExplicitRetentionTimeFromOldCommits) {
  GroupConfig cfg = default_config();
  cfg.offsets_retention_check_interval_ms = 1000;
  reset(cfg);
  commit("g", {P("t", 0, 1)}, -1, "", 5000);
  advance(4000);
  EXPECT_EQ(fetch_one("g", "t", 0).offset, 1);
  advance(1000);
  EXPECT_EQ(fetch_one("g", "t", 0).offset, -1);
}

TEST_F(GroupOffsetsTest, ConsumerGroupOffsetsExpireFromWhenItBecameEmpty) {
  GroupConfig cfg = default_config();
  cfg.offsets_retention_ms = 100000;
  cfg.offsets_retention_check_interval_ms = 1000;
  reset(cfg);
  const std::string m = stable_member("g", {"t"});
  commit("g", {P("t", 0, 5), P("old", 0, 3)}, 1, m);
  for (int i = 0; i < 20; ++i) {
    advance(5000);
    heartbeat("g", m, 1);
  }
  // Stable for 100 s: the subscribed topic is kept, the unsubscribed one expired.
  EXPECT_EQ(fetch_one("g", "t", 0).offset, 5);
  EXPECT_EQ(fetch_one("g", "old", 0).offset, -1);
  coord->leave_group("g", {{m, std::nullopt}});
  EXPECT_EQ(state("g"), "Empty");
  advance(99000);
  EXPECT_EQ(fetch_one("g", "t", 0).offset, 5);
  advance(1000);
  EXPECT_EQ(fetch_one("g", "t", 0).offset, -1);
  EXPECT_EQ(state("g"), "Dead");
}

TEST_F(GroupOffsetsTest, DeleteGroups) {
  const std::string m = stable_member("busy", {"t"});
  commit("idle", {P("t", 0, 1), P("t", 1, 2)});
  testing::Answer<std::vector<std::pair<std::string, ErrorCode>>> a;
  coord->delete_groups({"busy", "idle", "missing"}, a.callback());
  ASSERT_TRUE(a.ready());
  EXPECT_EQ(*a, (std::vector<std::pair<std::string, ErrorCode>>{
                    {"busy", ErrorCode::kNonEmptyGroup},
                    {"idle", ErrorCode::kNone},
                    {"missing", ErrorCode::kGroupIdNotFound}}));
  EXPECT_EQ(fetch_one("idle", "t", 0).offset, -1);
  EXPECT_EQ(state("idle"), "Dead");
  const auto& tomb = log.appends.back().records;
  ASSERT_EQ(tomb.size(), 3u);  // two offsets and the group
  for (const auto& r : tomb) EXPECT_FALSE(r.value.has_value());
}

TEST_F(GroupOffsetsTest, OffsetDelete) {
  const std::string m = stable_member("g", {"t"});
  commit("g", {P("t", 0, 1), P("u", 0, 2)}, 1, m);
  testing::Answer<OffsetDeleteResult> a;
  coord->delete_offsets("g", {{"t", 0}, {"u", 0}}, a.callback());
  ASSERT_TRUE(a.ready());
  EXPECT_EQ(a->error, ErrorCode::kNone);
  EXPECT_EQ(a->partitions, (std::vector<TopicPartitionError>{{"t", 0, kGroupSubscribedToTopic},
                                                             {"u", 0, ErrorCode::kNone}}));
  EXPECT_EQ(fetch_one("g", "t", 0).offset, 1);
  EXPECT_EQ(fetch_one("g", "u", 0).offset, -1);

  testing::Answer<OffsetDeleteResult> missing;
  coord->delete_offsets("nope", {{"t", 0}}, missing.callback());
  EXPECT_EQ(missing->error, ErrorCode::kGroupIdNotFound);
  testing::Answer<OffsetDeleteResult> invalid;
  coord->delete_offsets("", {{"t", 0}}, invalid.callback());
  EXPECT_EQ(invalid->error, ErrorCode::kInvalidGroupId);

  coord->leave_group("g", {{m, std::nullopt}});
  testing::Answer<OffsetDeleteResult> empty;
  coord->delete_offsets("g", {{"t", 0}}, empty.callback());
  EXPECT_EQ(empty->partitions[0].error, ErrorCode::kNone);
  EXPECT_EQ(fetch_one("g", "t", 0).offset, -1);
}

TEST_F(GroupOffsetsTest, PersistenceRoundTrip) {
  // A stable two-member consumer group with offsets, a standalone group, a deleted group,
  // an overwritten offset and a deleted offset.
  auto first = join("g", "");
  auto j1 = join(join_request("g", first->member_id, {{"range", subscription({"t"})}}));
  auto j2 = join(join_request("g", "", {{"range", subscription({"t"})}}, "inst"));
  auto j1b = join(join_request("g", j1->member_id, {{"range", subscription({"t"})}}));
  ASSERT_TRUE(j1b.ready() && j2.ready());
  const std::string a = j1->member_id;
  const std::string b = j2->member_id;
  sync("g", a, 2, {{a, "A"}, {b, "B"}});
  commit("g", {P("t", 0, 10, 3, "x"), P("t", 1, 11)}, 2, a);
  commit("g", {P("t", 0, 12, 4, "y")}, 2, b);
  commit("solo", {P("s", 0, 1), P("s", 1, 2)});
  testing::Answer<OffsetDeleteResult> od;
  coord->delete_offsets("solo", {{"s", 1}}, od.callback());
  commit("gone", {P("t", 0, 1)});
  coord->delete_groups({"gone"}, [](auto) {});

  GroupCoordinator fresh(config, &clock, &log);
  log.replay_into(fresh);

  GroupDescription before = coord->describe_group("g");
  GroupDescription after = fresh.describe_group("g");
  EXPECT_EQ(after.state, "Stable");
  EXPECT_EQ(after.protocol, before.protocol);
  EXPECT_EQ(after.protocol_type, "consumer");
  ASSERT_EQ(after.members.size(), 2u);
  for (size_t i = 0; i < 2; ++i) {
    EXPECT_EQ(after.members[i].member_id, before.members[i].member_id);
    EXPECT_EQ(after.members[i].group_instance_id, before.members[i].group_instance_id);
    EXPECT_EQ(after.members[i].assignment, before.members[i].assignment);
    EXPECT_EQ(after.members[i].metadata, before.members[i].metadata);
    EXPECT_EQ(after.members[i].client_host, before.members[i].client_host);
  }
  auto fetch = [](GroupCoordinator& c, const std::string& g) {
    std::vector<std::tuple<std::string, int32_t, int64_t, int32_t, std::string>> out;
    for (auto& p : c.fetch_offsets(g, std::nullopt).partitions) {
      out.emplace_back(p.topic, p.partition, p.offset, p.leader_epoch, p.metadata);
    }
    return out;
  };
  EXPECT_EQ(fetch(fresh, "g"), fetch(*coord, "g"));
  EXPECT_EQ(fetch(fresh, "solo"), fetch(*coord, "solo"));
  EXPECT_EQ(fetch(fresh, "g").size(), 2u);
  EXPECT_EQ(fetch(fresh, "solo").size(), 1u);
  EXPECT_EQ(fresh.describe_group("gone").state, "Dead");
  EXPECT_EQ(fresh.list_groups({}).size(), 2u);
  // The loaded members carry on with their generation.
  EXPECT_EQ(fresh.heartbeat({"g", 2, a, std::nullopt}), ErrorCode::kNone);
  EXPECT_EQ(fresh.heartbeat({"g", 2, "other", "inst"}), ErrorCode::kFencedInstanceId);
  // And their subscriptions are known again (OffsetDelete checks them).
  testing::Answer<OffsetDeleteResult> d;
  fresh.delete_offsets("g", {{"t", 0}}, d.callback());
  EXPECT_EQ(d->partitions[0].error, kGroupSubscribedToTopic);
}

TEST_F(GroupOffsetsTest, LoadRejectsMalformedRecords) {
  EXPECT_FALSE(coord->load(0, "", std::string_view("x")).ok());
  EXPECT_FALSE(coord->load(0, encode_offset_key({"g", "t", 0}), std::string_view("\x00", 1)).ok());
  EXPECT_FALSE(coord->load(0, encode_group_key({"g"}), std::string_view("\x00\x07", 2)).ok());
  EXPECT_TRUE(coord->load(0, encode_group_key({"g"}), std::nullopt).ok());  // tombstone of nothing
  EXPECT_TRUE(coord->list_groups({}).empty());
}

}  // namespace
}  // namespace gregor::coordinator

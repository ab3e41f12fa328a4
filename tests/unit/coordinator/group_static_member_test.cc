// Static membership (KIP-345) and LeaveGroup: replacing an instance's member id without a
// rebalance, fencing stale ids, and removing members one by one or in batches.
#include <gtest/gtest.h>

#include "coordinator/group_records.h"
#include "group_test_util.h"

namespace gregor::coordinator {
namespace {

using testing::GroupFixture;
using testing::subscription;

using GroupStaticMemberTest = GroupFixture;

TEST_F(GroupStaticMemberTest, LeaveBatchingByMemberAndInstanceId) {
  const std::string a = stable_single("g");
  // Static members join without MEMBER_ID_REQUIRED.
  auto jb = join(join_request("g", "", {{"range", subscription({"t"})}}, "inst-b"));
  auto jc = join(join_request("g", "", {{"range", subscription({"t"})}}, "inst-c"));
  EXPECT_FALSE(jb.ready());
  auto ja = join("g", a);
  ASSERT_TRUE(ja.ready() && jb.ready() && jc.ready());
  EXPECT_EQ(ja->members.size(), 3u);
  const int32_t gen = jb->generation_id;
  sync("g", a, gen, {});
  auto result = coord->leave_group(
      "g", {{a, std::nullopt}, {"", "inst-c"}, {"bogus", std::nullopt}, {"wrong-id", "inst-b"}});
  EXPECT_EQ(result.error, ErrorCode::kNone);
  EXPECT_EQ(result.member_errors,
            (std::vector<ErrorCode>{ErrorCode::kNone, ErrorCode::kNone, ErrorCode::kUnknownMemberId,
                                    ErrorCode::kFencedInstanceId}));
  EXPECT_EQ(state("g"), "PreparingRebalance");
  auto jb2 = join(join_request("g", jb->member_id, {{"range", subscription({"t"})}}, "inst-b"));
  ASSERT_TRUE(jb2.ready());
  EXPECT_EQ(jb2->members.size(), 1u);
  EXPECT_EQ(jb2->leader_id, jb->member_id);

  auto missing = coord->leave_group("nope", {{"x", std::nullopt}});
  EXPECT_EQ(missing.error, ErrorCode::kNone);
  EXPECT_EQ(missing.member_errors, std::vector<ErrorCode>{ErrorCode::kUnknownMemberId});
}

TEST_F(GroupStaticMemberTest, AllMembersLeavingEmptiesGroup) {
  auto [a, b] = stable_pair("g");
  coord->leave_group("g", {{a, std::nullopt}, {b, std::nullopt}});
  EXPECT_EQ(state("g"), "Empty");
  auto v = decode_group_value(*log.appends.back().records[0].value);
  EXPECT_EQ(v->generation, 3);
  EXPECT_TRUE(v->members.empty());
}

TEST_F(GroupStaticMemberTest, StaticMemberRejoinsWithoutRebalance) {
  auto j = join(join_request("g", "", {{"range", subscription({"t"})}}, "inst"));
  ASSERT_TRUE(j.ready());
  const std::string old_id = j->member_id;
  EXPECT_EQ(old_id.rfind("inst-", 0), 0u);
  sync("g", old_id, 1, {{old_id, "A"}});
  const size_t appends = log.appends.size();

  // The instance restarts and joins with no member id.
  auto again = join(join_request("g", "", {{"range", subscription({"t"})}}, "inst"));
  ASSERT_TRUE(again.ready());
  EXPECT_EQ(again->error, ErrorCode::kNone);
  EXPECT_NE(again->member_id, old_id);
  EXPECT_EQ(again->generation_id, 1);
  EXPECT_EQ(again->leader_id, old_id);  // pre-v9: the old id, so it does not reassign
  EXPECT_EQ(state("g"), "Stable");
  EXPECT_EQ(log.appends.size(), appends + 1);  // the new member id was persisted
  EXPECT_EQ(heartbeat("g", again->member_id, 1), ErrorCode::kNone);
  EXPECT_EQ(coord->heartbeat({"g", 1, old_id, "inst"}), ErrorCode::kFencedInstanceId);
  EXPECT_EQ(sync("g", again->member_id, 1)->assignment, "A");
  auto fenced = join(join_request("g", old_id, {{"range", subscription({"t"})}}, "inst"));
  EXPECT_EQ(fenced->error, ErrorCode::kFencedInstanceId);

  // JoinGroup v9: the static leader learns it leads but skips the assignment.
  auto req = join_request("g", "", {{"range", subscription({"t"})}}, "inst");
  req.supports_skip_assignment = true;
  auto v9 = join(req);
  ASSERT_TRUE(v9.ready());
  EXPECT_EQ(v9->leader_id, v9->member_id);
  EXPECT_TRUE(v9->skip_assignment);
  EXPECT_EQ(v9->members.size(), 1u);
  EXPECT_EQ(state("g"), "Stable");
}

TEST_F(GroupStaticMemberTest, StaticMemberChangingTheSelectedProtocolRebalances) {
  const std::string sub = subscription({"t"});
  auto j = join(join_request("g", "", {{"range", sub}, {"roundrobin", sub}}, "inst"));
  sync("g", j->member_id, 1, {{j->member_id, "A"}});
  // New metadata for the same selected protocol: replaced without a rebalance (Kafka's rule).
  auto same = join(
      join_request("g", "", {{"range", subscription({"t", "u"})}, {"roundrobin", sub}}, "inst"));
  ASSERT_TRUE(same.ready());
  EXPECT_EQ(same->generation_id, 1);
  EXPECT_EQ(state("g"), "Stable");
  // Preferring another protocol changes the group's selection: that needs a rebalance.
  auto changed = join(join_request("g", "", {{"roundrobin", sub}, {"range", sub}}, "inst"));
  ASSERT_TRUE(changed.ready());  // the only member, so the rebalance completes at once
  EXPECT_EQ(changed->generation_id, 2);
  EXPECT_EQ(changed->protocol_name, "roundrobin");
  EXPECT_EQ(heartbeat("g", same->member_id, 2), ErrorCode::kUnknownMemberId);
}

TEST_F(GroupStaticMemberTest, FailedStaticReplacementIsRevertedAndAnswered) {
  auto j = join(join_request("g", "", {{"range", subscription({"t"})}}, "inst"));
  sync("g", j->member_id, 1, {{j->member_id, "A"}});
  log.fail = true;
  auto again = join(join_request("g", "", {{"range", subscription({"t"})}}, "inst"));
  ASSERT_TRUE(again.ready());
  EXPECT_EQ(again->error, ErrorCode::kCoordinatorNotAvailable);
  EXPECT_EQ(coord->heartbeat({"g", 1, j->member_id, "inst"}), ErrorCode::kNone);
}

TEST_F(GroupStaticMemberTest, StaticReplacementAnsweredOnceWhenARebalanceOvertakesTheWrite) {
  const std::string a = stable_single("g");
  auto js = join(join_request("g", "", {{"range", subscription({"t"})}}, "inst"));
  auto ja = join("g", a);
  ASSERT_TRUE(js.ready() && ja.ready());
  sync("g", js->member_id, 2);
  sync("g", a, 2, {{a, "A"}, {js->member_id, "S"}});
  log.hold = true;
  auto again = join(join_request("g", "", {{"range", subscription({"t"})}}, "inst"));
  EXPECT_FALSE(again.ready());  // waiting for its new member id to be written
  auto ja3 = join("g", a);      // the leader starts a rebalance meanwhile
  ASSERT_TRUE(ja3.ready() && again.ready());
  EXPECT_EQ(again->generation_id, 3);
  log.complete_held();
  EXPECT_EQ(*again.calls, 1);
  EXPECT_EQ(again->generation_id, 3);
}

TEST_F(GroupStaticMemberTest, UnknownInstanceIdIsUnknownMember) {
  const std::string a = stable_single("g");
  EXPECT_EQ(coord->heartbeat({"g", 1, a, "never-registered"}), ErrorCode::kUnknownMemberId);
  OffsetCommitRequest c;
  c.group_id = "g";
  c.generation_id = 1;
  c.member_id = a;
  c.group_instance_id = "never-registered";
  c.partitions.push_back({"t", 0, 1, -1, std::nullopt});
  testing::Answer<std::vector<TopicPartitionError>> r;
  coord->commit_offsets(c, r.callback());
  EXPECT_EQ((*r)[0].error, ErrorCode::kUnknownMemberId);
}

TEST_F(GroupStaticMemberTest, StaticMemberKeepsItsPlaceWhileRestarting) {
  auto [a, ja] = join_new("g");
  auto static_req = join_request("g", "", {{"range", subscription({"t"})}}, "inst");
  static_req.session_timeout_ms = 60000;  // static members use long sessions to ride out restarts
  auto js = join(static_req);
  auto ja2 = join("g", a);
  ASSERT_TRUE(ja2.ready() && js.ready());
  sync("g", js->member_id, ja2->generation_id, {});
  sync("g", a, ja2->generation_id, {});
  // a rejoins (leader => rebalance) while the static member is restarting and misses it.
  auto ja3 = join("g", a);
  EXPECT_FALSE(ja3.ready());
  advance(30000);
  ASSERT_TRUE(ja3.ready());
  EXPECT_EQ(ja3->members.size(), 2u);  // the static member is not dropped by the rebalance
  // It comes back during CompletingRebalance: its new id needs a new assignment.
  auto back = join(static_req);
  EXPECT_FALSE(back.ready());
  EXPECT_EQ(state("g"), "PreparingRebalance");
  auto ja4 = join("g", a);
  ASSERT_TRUE(ja4.ready() && back.ready());
  EXPECT_EQ(back->error, ErrorCode::kNone);
  EXPECT_EQ(ja4->members.size(), 2u);
  EXPECT_EQ(coord->heartbeat({"g", back->generation_id, js->member_id, "inst"}),
            ErrorCode::kFencedInstanceId);
}

}  // namespace
}  // namespace gregor::coordinator

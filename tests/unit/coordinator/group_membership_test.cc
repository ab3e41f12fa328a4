// The classic group state machine: joins, syncs, heartbeats and every timer (rebalance, session,
// sync, initial delay), driven by a FakeClock so nothing sleeps.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "coordinator/group_records.h"
#include "group_test_util.h"

namespace gregor::coordinator {
namespace {

using testing::GroupFixture;
using testing::subscription;

using GroupMembershipTest = GroupFixture;

TEST_F(GroupMembershipTest, MemberIdRequiredThenJoinSyncStable) {
  auto first = join("g", "");
  ASSERT_TRUE(first.ready());
  EXPECT_EQ(first->error, ErrorCode::kMemberIdRequired);
  EXPECT_EQ(first->member_id.rfind("client-", 0), 0u);
  EXPECT_EQ(state("g"), "Empty");
  const std::string id = first->member_id;

  auto j = join("g", id);
  ASSERT_TRUE(j.ready());
  EXPECT_EQ(j->error, ErrorCode::kNone);
  EXPECT_EQ(j->generation_id, 1);
  EXPECT_EQ(j->leader_id, id);
  EXPECT_EQ(j->protocol_name, "range");
  EXPECT_EQ(j->protocol_type, "consumer");
  ASSERT_EQ(j->members.size(), 1u);
  EXPECT_EQ(j->members[0].metadata, subscription({"t"}));
  EXPECT_EQ(state("g"), "CompletingRebalance");
  EXPECT_EQ(heartbeat("g", id, 1), ErrorCode::kNone);

  auto s = sync("g", id, 1, {{id, "A"}, {"stranger", "X"}});
  ASSERT_TRUE(s.ready());
  EXPECT_EQ(s->error, ErrorCode::kNone);
  EXPECT_EQ(s->assignment, "A");
  EXPECT_EQ(state("g"), "Stable");
  EXPECT_EQ(*s.calls, 1);
  // The assignment is written as GroupMetadata to the group's partition.
  ASSERT_EQ(log.appends.size(), 1u);
  EXPECT_EQ(log.appends[0].partition, offsets_partition_for("g", 50));
  auto value = decode_group_value(*log.appends[0].records[0].value);
  ASSERT_TRUE(value.ok());
  EXPECT_EQ(value->generation, 1);
  EXPECT_EQ(value->members[0].assignment, "A");
  // A follower syncing late in Stable gets its stored assignment.
  auto again = sync("g", id, 1);
  EXPECT_EQ(again->assignment, "A");
}

TEST_F(GroupMembershipTest, OldClientsJoinWithoutMemberIdRequired) {
  auto req = join_request("g", "");
  req.require_known_member_id = false;
  auto j = join(req);
  ASSERT_TRUE(j.ready());
  EXPECT_EQ(j->error, ErrorCode::kNone);
  EXPECT_FALSE(j->member_id.empty());
  EXPECT_EQ(j->leader_id, j->member_id);
}

TEST_F(GroupMembershipTest, SecondMemberTriggersRebalanceAndBothGetAnswers) {
  const std::string a = stable_single("g");
  auto [b, jb] = join_new("g");
  EXPECT_FALSE(jb.ready());
  EXPECT_EQ(state("g"), "PreparingRebalance");
  EXPECT_EQ(heartbeat("g", a, 1), ErrorCode::kRebalanceInProgress);
  // A commit-free sync during the rebalance is refused too.
  EXPECT_EQ(sync("g", a, 1)->error, ErrorCode::kRebalanceInProgress);
  auto ja = join("g", a);
  ASSERT_TRUE(ja.ready());
  ASSERT_TRUE(jb.ready());
  EXPECT_EQ(ja->generation_id, 2);
  EXPECT_EQ(jb->generation_id, 2);
  EXPECT_EQ(ja->leader_id, a);
  EXPECT_EQ(jb->leader_id, a);
  EXPECT_EQ(ja->members.size(), 2u);
  EXPECT_TRUE(jb->members.empty());
  // The follower waits for the leader's assignment.
  auto sb = sync("g", b, 2);
  EXPECT_FALSE(sb.ready());
  auto sa = sync("g", a, 2, {{a, "A"}, {b, "B"}});
  ASSERT_TRUE(sa.ready() && sb.ready());
  EXPECT_EQ(sa->assignment, "A");
  EXPECT_EQ(sb->assignment, "B");
  EXPECT_EQ(state("g"), "Stable");
}

TEST_F(GroupMembershipTest, RebalanceTimeoutExpelsMemberThatDidNotRejoin) {
  auto [a, b] = stable_pair("g");
  auto [c, jc] = join_new("g");
  auto ja = join("g", a);
  EXPECT_FALSE(ja.ready());
  // b keeps heartbeating but never rejoins.
  for (int i = 0; i < 5; ++i) {
    advance(5000);
    EXPECT_EQ(heartbeat("g", b, 2), ErrorCode::kRebalanceInProgress);
  }
  EXPECT_FALSE(ja.ready());
  EXPECT_EQ(coord->next_deadline_ms(), clock.now_ms() + 5000);
  advance(5000);  // 30 s = the rebalance timeout
  ASSERT_TRUE(ja.ready() && jc.ready());
  EXPECT_EQ(ja->generation_id, 3);
  EXPECT_EQ(ja->members.size(), 2u);
  EXPECT_EQ(heartbeat("g", b, 3), ErrorCode::kUnknownMemberId);
}

TEST_F(GroupMembershipTest, SessionTimeoutExpiresSilentMember) {
  auto [a, b] = stable_pair("g");
  advance(6000);
  EXPECT_EQ(heartbeat("g", a, 2), ErrorCode::kNone);
  EXPECT_EQ(state("g"), "Stable");
  advance(4000);  // b has been silent for its 10 s session timeout
  EXPECT_EQ(state("g"), "PreparingRebalance");
  EXPECT_EQ(heartbeat("g", b, 2), ErrorCode::kUnknownMemberId);
  EXPECT_EQ(heartbeat("g", a, 2), ErrorCode::kRebalanceInProgress);
  auto ja = join("g", a);
  ASSERT_TRUE(ja.ready());
  EXPECT_EQ(ja->generation_id, 3);
  EXPECT_EQ(ja->members.size(), 1u);
}

TEST_F(GroupMembershipTest, LastMemberExpiringEmptiesTheGroup) {
  const std::string a = stable_single("g");
  advance(10000);
  EXPECT_EQ(state("g"), "Empty");
  EXPECT_EQ(coord->describe_group("g").members.size(), 0u);
  // The empty generation is persisted.
  auto v = decode_group_value(*log.appends.back().records[0].value);
  EXPECT_EQ(v->generation, 2);
  EXPECT_TRUE(v->members.empty());
}

TEST_F(GroupMembershipTest, InitialRebalanceDelayIsExtendedByNewMembers) {
  GroupConfig cfg = default_config();
  cfg.group_initial_rebalance_delay_ms = 3000;
  reset(cfg);
  auto [a, ja] = join_new("g");
  EXPECT_FALSE(ja.ready());
  EXPECT_EQ(coord->next_deadline_ms(), clock.now_ms() + 3000);
  advance(2000);
  auto [b, jb] = join_new("g");
  advance(1000);  // first delay over, but b arrived: wait another 3 s
  EXPECT_FALSE(ja.ready());
  advance(2999);
  EXPECT_FALSE(ja.ready());
  advance(1);
  ASSERT_TRUE(ja.ready() && jb.ready());
  EXPECT_EQ(ja->generation_id, 1);
  EXPECT_EQ(ja->members.size(), 2u);
}

TEST_F(GroupMembershipTest, InitialDelayIsBoundedByRebalanceTimeout) {
  GroupConfig cfg = default_config();
  cfg.group_initial_rebalance_delay_ms = 3000;
  reset(cfg);
  auto req = join_request("g", "");
  req.rebalance_timeout_ms = 7000;
  req.require_known_member_id = false;
  auto ja = join(req);
  int64_t waited = 0;
  while (!ja.ready() && waited < 60000) {
    advance(1000);
    waited += 1000;
    if (!ja.ready()) join(req);  // a new member every second
  }
  ASSERT_TRUE(ja.ready());
  EXPECT_LE(waited, 7000);
}

TEST_F(GroupMembershipTest, GenerationFencingErrors) {
  auto [a, b] = stable_pair("g");
  EXPECT_EQ(heartbeat("g", a, 1), ErrorCode::kIllegalGeneration);
  EXPECT_EQ(heartbeat("g", "nobody", 2), ErrorCode::kUnknownMemberId);
  EXPECT_EQ(heartbeat("missing", a, 2), ErrorCode::kUnknownMemberId);
  EXPECT_EQ(sync("g", a, 7)->error, ErrorCode::kIllegalGeneration);
  EXPECT_EQ(sync("g", "nobody", 2)->error, ErrorCode::kUnknownMemberId);
  EXPECT_EQ(sync("missing", a, 2)->error, ErrorCode::kUnknownMemberId);
  EXPECT_EQ(join("g", "nobody")->error, ErrorCode::kUnknownMemberId);
  EXPECT_EQ(join("missing", "someone")->error, ErrorCode::kUnknownMemberId);
  EXPECT_TRUE(coord->describe_group("missing").members.empty());
  EXPECT_EQ(state("missing"), "Dead");
  EXPECT_EQ(state("g"), "Stable");
}

TEST_F(GroupMembershipTest, BadInputErrors) {
  auto req = join_request("", "");
  EXPECT_EQ(join(req)->error, ErrorCode::kInvalidGroupId);
  req = join_request("g", "");
  req.session_timeout_ms = 5999;
  EXPECT_EQ(join(req)->error, ErrorCode::kInvalidSessionTimeout);
  req.session_timeout_ms = 1800001;
  EXPECT_EQ(join(req)->error, ErrorCode::kInvalidSessionTimeout);
  req = join_request("g", "");
  req.protocols.clear();
  EXPECT_EQ(join(req)->error, ErrorCode::kInconsistentGroupProtocol);
  req = join_request("g", "");
  req.protocol_type = "";
  EXPECT_EQ(join(req)->error, ErrorCode::kInconsistentGroupProtocol);
  EXPECT_TRUE(coord->list_groups({}).empty());  // failed joins leave no group behind

  const std::string a = stable_single("g");
  req = join_request("g", "");
  req.protocol_type = "connect";
  EXPECT_EQ(join(req)->error, ErrorCode::kInconsistentGroupProtocol);
  EXPECT_EQ(join(join_request("g", "", {{"sticky", ""}}))->error,
            ErrorCode::kInconsistentGroupProtocol);
  EXPECT_EQ(heartbeat("", a, 1), ErrorCode::kInvalidGroupId);
  EXPECT_EQ(sync("", a, 1)->error, ErrorCode::kInvalidGroupId);
  EXPECT_EQ(coord->leave_group("", {{a, std::nullopt}}).error, ErrorCode::kInvalidGroupId);

  // SyncGroup v5 checks the protocol type and name.
  SyncGroupRequest s;
  s.group_id = "g";
  s.member_id = a;
  s.generation_id = 1;
  s.protocol_type = "consumer";
  s.protocol_name = "roundrobin";
  testing::Answer<SyncGroupResult> r;
  coord->sync_group(s, r.callback());
  EXPECT_EQ(r->error, ErrorCode::kInconsistentGroupProtocol);
  s.protocol_name = "range";
  testing::Answer<SyncGroupResult> ok;
  coord->sync_group(s, ok.callback());
  EXPECT_EQ(ok->error, ErrorCode::kNone);
  EXPECT_EQ(ok->protocol_name, "range");
}

TEST_F(GroupMembershipTest, GroupMaxSize) {
  GroupConfig cfg = default_config();
  cfg.group_max_size = 1;
  reset(cfg);
  const std::string a = stable_single("g");
  auto j = join("g", "");
  EXPECT_EQ(j->error, ErrorCode::kGroupMaxSizeReached);
  EXPECT_EQ(state("g"), "Stable");
}

TEST_F(GroupMembershipTest, PendingMemberBlocksJoinUntilItsSessionExpires) {
  const std::string a = stable_single("g");
  auto first = join("g", "");  // gets an id, never comes back
  EXPECT_EQ(first->error, ErrorCode::kMemberIdRequired);
  auto ja = join("g", a);  // the leader rejoining starts a rebalance
  EXPECT_FALSE(ja.ready());
  advance(10000);
  ASSERT_TRUE(ja.ready());
  EXPECT_EQ(ja->members.size(), 1u);
}

TEST_F(GroupMembershipTest, MemberThatNeverSyncsIsRemoved) {
  const std::string a = stable_single("g");
  auto [b, jb] = join_new("g");
  auto ja = join("g", a);
  ASSERT_TRUE(ja.ready() && jb.ready());
  auto sa = sync("g", a, 2, {{a, "A"}, {b, "B"}});
  ASSERT_TRUE(sa.ready());
  EXPECT_EQ(state("g"), "Stable");
  for (int i = 0; i < 6; ++i) {
    advance(5000);
    heartbeat("g", a, 2);
    heartbeat("g", b, 2);
  }
  // b got its JoinGroup answer but never synced within the rebalance timeout.
  EXPECT_EQ(state("g"), "PreparingRebalance");
  EXPECT_EQ(heartbeat("g", b, 2), ErrorCode::kUnknownMemberId);
}

TEST_F(GroupMembershipTest, FailedAssignmentWriteAnswersErrorAndRebalances) {
  auto [a, ja] = join_new("g");
  log.fail = true;
  auto s = sync("g", a, 1, {{a, "A"}});
  ASSERT_TRUE(s.ready());
  EXPECT_EQ(s->error, ErrorCode::kCoordinatorNotAvailable);
  EXPECT_EQ(state("g"), "PreparingRebalance");
}

TEST_F(GroupMembershipTest, SyncAnswersWaitForDurableAssignment) {
  auto [a, ja] = join_new("g");
  log.hold = true;
  auto s = sync("g", a, 1, {{a, "A"}});
  EXPECT_FALSE(s.ready());
  EXPECT_EQ(state("g"), "CompletingRebalance");
  log.complete_held();
  ASSERT_TRUE(s.ready());
  EXPECT_EQ(s->assignment, "A");
}

TEST_F(GroupMembershipTest, CallbacksRunWithoutTheLock) {
  auto [a, j] = join_new("g");
  SyncGroupRequest r;
  r.group_id = "g";
  r.member_id = a;
  r.generation_id = 1;
  r.assignments = {{a, "A"}};
  std::string seen;
  // Re-entering the coordinator from a callback would deadlock if the mutex were held.
  coord->sync_group(r, [&](SyncGroupResult) { seen = coord->describe_group("g").state; });
  EXPECT_EQ(seen, "Stable");
}

TEST_F(GroupMembershipTest, SecondJoinSupersedesWaitingOne) {
  auto [a, b] = stable_pair("g");
  auto j1 = join("g", a);
  EXPECT_FALSE(j1.ready());
  auto j2 = join("g", a);
  ASSERT_TRUE(j1.ready());
  EXPECT_EQ(j1->error, ErrorCode::kRebalanceInProgress);
  EXPECT_FALSE(j2.ready());
  auto jb = join("g", b);
  EXPECT_TRUE(j2.ready() && jb.ready());
  EXPECT_EQ(*j1.calls, 1);
}

TEST_F(GroupMembershipTest, FollowerRejoinInStableReturnsCurrentGeneration) {
  auto [a, b] = stable_pair("g");
  auto jb = join("g", b);
  ASSERT_TRUE(jb.ready());
  EXPECT_EQ(jb->generation_id, 2);
  EXPECT_EQ(state("g"), "Stable");
  // A follower with a changed subscription forces a rebalance.
  auto changed = join(join_request("g", b, {{"range", subscription({"t", "u"})}}));
  EXPECT_FALSE(changed.ready());
  EXPECT_EQ(state("g"), "PreparingRebalance");
}

TEST_F(GroupMembershipTest, DescribeAndListGroups) {
  auto [a, b] = stable_pair("g");
  auto [c, jc] = join_new("h");
  sync("h", c, 1, {{c, "C"}});
  coord->join_group(join_request("p", ""), [](JoinGroupResult) {});
  GroupDescription d = coord->describe_group("g");
  EXPECT_EQ(d.state, "Stable");
  EXPECT_EQ(d.protocol, "range");
  EXPECT_EQ(d.protocol_type, "consumer");
  ASSERT_EQ(d.members.size(), 2u);
  for (const auto& m : d.members) {
    EXPECT_EQ(m.client_id, "client");
    EXPECT_EQ(m.assignment, m.member_id == a ? "A" : "B");
    EXPECT_EQ(m.metadata, subscription({"t"}));
  }
  advance(9000);
  heartbeat("g", a, 2);
  advance(1000);  // b expires: g rebalances
  EXPECT_EQ(coord->describe_group("g").protocol, "");
  // h's only member expired too; p never got past MEMBER_ID_REQUIRED and is gone.
  EXPECT_EQ(coord->list_groups({}).size(), 2u);
  EXPECT_TRUE(coord->list_groups({"stable"}).empty());
  auto listed = coord->list_groups({"PreparingRebalance", "Empty"});
  ASSERT_EQ(listed.size(), 2u);
  EXPECT_EQ(listed[0].group_id, "g");
  EXPECT_EQ(listed[0].state, "PreparingRebalance");
  EXPECT_EQ(listed[1].state, "Empty");
  EXPECT_EQ(listed[1].protocol_type, "consumer");
}

TEST_F(GroupMembershipTest, UnusedPendingIdExpiresWithItsNewGroup) {
  EXPECT_EQ(join("g", "")->error, ErrorCode::kMemberIdRequired);
  EXPECT_EQ(coord->list_groups({}).size(), 1u);
  advance(10000);
  EXPECT_TRUE(coord->list_groups({}).empty());
}

TEST_F(GroupMembershipTest, ConcurrentGroupsSmoke) {
  // Threads drive their own groups through the whole life cycle while another ticks.
  std::atomic<bool> stop{false};
  std::thread ticker([&] {
    while (!stop) coord->tick();
  });
  std::vector<std::thread> clients;
  std::atomic<int> answers{0};
  for (int t = 0; t < 4; ++t) {
    clients.emplace_back([&, t] {
      const std::string g = "g" + std::to_string(t);
      for (int round = 0; round < 20; ++round) {
        auto req = join_request(g, "");
        req.require_known_member_id = false;
        testing::Answer<JoinGroupResult> j;
        coord->join_group(req, j.callback());
        ASSERT_TRUE(j.ready());
        ++answers;
        const std::string id = j->member_id;
        SyncGroupRequest s{g, j->generation_id, id, std::nullopt, std::nullopt, std::nullopt, {}};
        coord->sync_group(s, [&](SyncGroupResult) { ++answers; });
        EXPECT_EQ(coord->heartbeat({g, j->generation_id, id, std::nullopt}), ErrorCode::kNone);
        OffsetCommitRequest c;
        c.group_id = g;
        c.generation_id = j->generation_id;
        c.member_id = id;
        c.partitions.push_back({"t", 0, round, -1, std::nullopt});
        coord->commit_offsets(c, [&](std::vector<TopicPartitionError>) { ++answers; });
        coord->leave_group(g, {{id, std::nullopt}});
      }
    });
  }
  for (auto& c : clients) c.join();
  stop = true;
  ticker.join();
  EXPECT_EQ(answers.load(), 4 * 20 * 3);
  for (int t = 0; t < 4; ++t) {
    auto r =
        coord->fetch_offsets("g" + std::to_string(t), std::vector<OffsetFetchTopic>{{"t", {0}}});
    EXPECT_EQ(r.partitions[0].offset, 19);
  }
}

}  // namespace
}  // namespace gregor::coordinator

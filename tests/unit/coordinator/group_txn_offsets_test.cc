// Transactional offset commits (TxnOffsetCommit): pending until the transaction's marker,
// require_stable fetches, ordering against plain commits, replay of transactional batches and
// markers, member validation, deletion, threads.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "coordinator/group_records.h"
#include "group_test_util.h"
#include "storage/kafka_error.h"

namespace gregor::coordinator {
namespace {

using testing::Answer;
using testing::GroupFixture;

constexpr int64_t kPid = 4000;
constexpr int16_t kEpoch = 2;

OffsetCommitPartition P(std::string topic, int32_t partition, int64_t offset,
                        std::optional<std::string> metadata = std::nullopt) {
  return {std::move(topic), partition, offset, -1, std::move(metadata)};
}

class GroupTxnOffsetsTest : public GroupFixture {
 protected:
  Answer<std::vector<TopicPartitionError>> txn_commit(const std::string& group, int64_t pid,
                                                      std::vector<OffsetCommitPartition> parts,
                                                      int32_t generation = -1,
                                                      const std::string& member = "",
                                                      std::optional<std::string> instance = {}) {
    TxnOffsetCommitRequest r;
    r.group_id = group;
    r.producer_id = pid;
    r.producer_epoch = kEpoch;
    r.generation_id = generation;
    r.member_id = member;
    r.group_instance_id = std::move(instance);
    r.partitions = std::move(parts);
    Answer<std::vector<TopicPartitionError>> a;
    coord->commit_txn_offsets(std::move(r), a.callback());
    return a;
  }
  Answer<std::vector<TopicPartitionError>> commit(const std::string& group,
                                                  std::vector<OffsetCommitPartition> parts) {
    OffsetCommitRequest r;
    r.group_id = group;
    r.partitions = std::move(parts);
    Answer<std::vector<TopicPartitionError>> a;
    coord->commit_offsets(std::move(r), a.callback());
    return a;
  }
  // The transaction coordinator's side: the marker goes to the group's partition, then the
  // group coordinator learns the outcome.
  void end_txn(const std::string& group, int64_t pid, bool commit) {
    log.write_marker(coord->partition_for(group), pid, kEpoch, commit);
    coord->complete_txn(coord->partition_for(group), pid, commit);
  }
  FetchedOffset fetch_one(GroupCoordinator& c, const std::string& group, const std::string& topic,
                          int32_t p, bool require_stable = false) {
    auto r = c.fetch_offsets(group, std::vector<OffsetFetchTopic>{{topic, {p}}}, require_stable);
    EXPECT_EQ(r.partitions.size(), 1u);
    return r.partitions.at(0);
  }
  FetchedOffset fetch_one(const std::string& group, const std::string& topic, int32_t p,
                          bool require_stable = false) {
    return fetch_one(*coord, group, topic, p, require_stable);
  }
  // What an observer can see of `group` in `c`: every offset, stable or not, of t-0..3.
  std::vector<std::tuple<int32_t, int64_t, std::string, ErrorCode>> view(GroupCoordinator& c,
                                                                         const std::string& g) {
    std::vector<std::tuple<int32_t, int64_t, std::string, ErrorCode>> out;
    for (int32_t p = 0; p < 4; ++p) {
      FetchedOffset f = fetch_one(c, g, "t", p, /*require_stable=*/true);
      out.emplace_back(p, f.offset, f.metadata, f.error);
      f = fetch_one(c, g, "t", p, /*require_stable=*/false);
      out.emplace_back(p, f.offset, f.metadata, f.error);
    }
    return out;
  }
};

TEST_F(GroupTxnOffsetsTest, PendingUntilCommitThenCommitted) {
  auto a = txn_commit("g", kPid, {P("t", 0, 10, "m"), P("t", 1, 11)});
  ASSERT_TRUE(a.ready());
  EXPECT_EQ(*a, (std::vector<TopicPartitionError>{{"t", 0, ErrorCode::kNone},
                                                  {"t", 1, ErrorCode::kNone}}));
  // Written as one transactional batch of the producer to the group's partition.
  ASSERT_EQ(log.appends.size(), 1u);
  EXPECT_EQ(log.appends[0].partition, coord->partition_for("g"));
  EXPECT_EQ(log.appends[0].producer_id, kPid);
  EXPECT_EQ(log.appends[0].producer_epoch, kEpoch);
  ASSERT_EQ(log.appends[0].records.size(), 2u);
  EXPECT_EQ(decode_offset_value(*log.appends[0].records[0].value)->offset, 10);
  // Invisible: a plain fetch sees nothing, the group exists (Empty).
  EXPECT_EQ(fetch_one("g", "t", 0).offset, -1);
  EXPECT_EQ(fetch_one("g", "t", 0).error, ErrorCode::kNone);
  EXPECT_TRUE(coord->fetch_offsets("g", std::nullopt).partitions.empty());
  EXPECT_EQ(state("g"), "Empty");

  end_txn("g", kPid, true);
  FetchedOffset f = fetch_one("g", "t", 0, true);
  EXPECT_EQ(f.offset, 10);
  EXPECT_EQ(f.metadata, "m");
  EXPECT_EQ(f.error, ErrorCode::kNone);
  EXPECT_EQ(fetch_one("g", "t", 1).offset, 11);
  EXPECT_EQ(coord->fetch_offsets("g", std::nullopt, true).partitions.size(), 2u);
}

TEST_F(GroupTxnOffsetsTest, AbortDropsThemAndAnUnusedGroupGoes) {
  commit("g", {P("t", 0, 5)});
  txn_commit("g", kPid, {P("t", 0, 10), P("t", 1, 11)});
  end_txn("g", kPid, false);
  EXPECT_EQ(fetch_one("g", "t", 0, true).offset, 5);
  EXPECT_EQ(fetch_one("g", "t", 1, true).offset, -1);
  EXPECT_EQ(fetch_one("g", "t", 1, true).error, ErrorCode::kNone);

  // A group that only ever had aborted offsets is not kept.
  txn_commit("only-txn", kPid, {P("t", 0, 1)});
  EXPECT_EQ(state("only-txn"), "Empty");
  end_txn("only-txn", kPid, false);
  EXPECT_EQ(state("only-txn"), "Dead");
}

TEST_F(GroupTxnOffsetsTest, RequireStableAnswersUnstableOffsetCommit) {
  commit("g", {P("t", 0, 5, "old"), P("t", 1, 6)});
  txn_commit("g", kPid, {P("t", 0, 10)});
  FetchedOffset f = fetch_one("g", "t", 0, true);
  EXPECT_EQ(f.error, ErrorCode::kUnstableOffsetCommit);
  EXPECT_EQ(f.offset, -1);
  EXPECT_EQ(f.metadata, "");
  // Without require_stable the last committed offset, as in Kafka.
  EXPECT_EQ(fetch_one("g", "t", 0).offset, 5);
  EXPECT_EQ(fetch_one("g", "t", 0).error, ErrorCode::kNone);
  // Other partitions answer normally.
  EXPECT_EQ(fetch_one("g", "t", 1, true).offset, 6);
  EXPECT_EQ(fetch_one("g", "t", 1, true).error, ErrorCode::kNone);
  // All partitions: those with a committed offset, the pending one flagged.
  auto all = coord->fetch_offsets("g", std::nullopt, true).partitions;
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].error, ErrorCode::kUnstableOffsetCommit);
  EXPECT_EQ(all[1].offset, 6);
  // Unstable from the moment the append is issued, and stable again after the marker.
  log.hold = true;
  auto held = txn_commit("g", kPid + 1, {P("t", 1, 60)});
  EXPECT_FALSE(held.ready());
  EXPECT_EQ(fetch_one("g", "t", 1, true).error, ErrorCode::kUnstableOffsetCommit);
  log.complete_held();
  EXPECT_TRUE(held.ready());
  log.hold = false;
  end_txn("g", kPid, true);
  end_txn("g", kPid + 1, true);
  EXPECT_EQ(fetch_one("g", "t", 0, true).offset, 10);
  EXPECT_EQ(fetch_one("g", "t", 1, true).offset, 60);
}

TEST_F(GroupTxnOffsetsTest, NewerPlainCommitIsNotOverwrittenByOlderPending) {
  txn_commit("g", kPid, {P("t", 0, 10), P("t", 1, 11)});
  commit("g", {P("t", 0, 20)});  // later in the log than the transactional record
  end_txn("g", kPid, true);
  EXPECT_EQ(fetch_one("g", "t", 0, true).offset, 20);
  EXPECT_EQ(fetch_one("g", "t", 1, true).offset, 11);
  // A transactional offset written after a plain one does replace it.
  txn_commit("g", kPid, {P("t", 0, 30)});
  end_txn("g", kPid, true);
  EXPECT_EQ(fetch_one("g", "t", 0, true).offset, 30);
  // So does a replay.
  GroupCoordinator fresh(config, &clock, &log);
  log.replay_into(fresh);
  EXPECT_EQ(view(fresh, "g"), view(*coord, "g"));
}

TEST_F(GroupTxnOffsetsTest, OutOfOrderCompletionKeepsTheLaterCommit) {
  // Two plain commits whose appends complete in reverse order: the later-issued one stays.
  log.hold = true;
  auto first = commit("g", {P("t", 0, 1)});
  std::function<void(absl::Status)> first_done = std::move(log.held.back());
  log.held.pop_back();
  auto second = commit("g", {P("t", 0, 2)});
  log.complete_held();
  first_done(absl::OkStatus());
  ASSERT_TRUE(first.ready() && second.ready());
  EXPECT_EQ(fetch_one("g", "t", 0).offset, 2);
}

TEST_F(GroupTxnOffsetsTest, CompleteTxnIsIdempotentAndScopedToProducerAndPartition) {
  txn_commit("g", kPid, {P("t", 0, 10)});
  txn_commit("g", kPid + 1, {P("t", 1, 11)});
  // The marker of another partition does nothing to this group.
  const int32_t other = (coord->partition_for("g") + 1) % config.offsets_topic_num_partitions;
  coord->complete_txn(other, kPid, true);
  EXPECT_EQ(fetch_one("g", "t", 0, true).error, ErrorCode::kUnstableOffsetCommit);

  coord->complete_txn(coord->partition_for("g"), kPid, true);
  EXPECT_EQ(fetch_one("g", "t", 0, true).offset, 10);
  commit("g", {P("t", 0, 15)});
  // Repeated markers (the transaction coordinator retries) change nothing.
  coord->complete_txn(coord->partition_for("g"), kPid, true);
  coord->complete_txn(coord->partition_for("g"), kPid, false);
  EXPECT_EQ(fetch_one("g", "t", 0, true).offset, 15);
  // The other producer's transaction is still open.
  EXPECT_EQ(fetch_one("g", "t", 1, true).error, ErrorCode::kUnstableOffsetCommit);
  coord->complete_txn(coord->partition_for("g"), kPid + 1, false);
  coord->complete_txn(coord->partition_for("g"), kPid + 1, false);
  EXPECT_EQ(fetch_one("g", "t", 1, true).offset, -1);
  EXPECT_EQ(fetch_one("g", "t", 1, true).error, ErrorCode::kNone);
}

TEST_F(GroupTxnOffsetsTest, ReplayRebuildsTheSameState) {
  commit("g", {P("t", 0, 1), P("t", 3, 3)});
  txn_commit("g", kPid, {P("t", 0, 10, "committed"), P("t", 1, 11)});
  txn_commit("g", kPid + 1, {P("t", 1, 21, "aborted")});
  txn_commit("g", kPid + 2, {P("t", 2, 32, "open")});  // no marker yet
  commit("g", {P("t", 1, 5)});                         // newer than both pending t-1 offsets
  end_txn("g", kPid, true);
  end_txn("g", kPid + 1, false);
  txn_commit("h", kPid, {P("t", 0, 7)});  // the same producer's next transaction, still open
  txn_commit("aborted-only", kPid + 1, {P("t", 0, 9)});
  end_txn("aborted-only", kPid + 1, false);

  GroupCoordinator fresh(config, &clock, &log);
  log.replay_into(fresh);
  for (const char* g : {"g", "h", "aborted-only"}) {
    EXPECT_EQ(view(fresh, g), view(*coord, g)) << g;
  }
  EXPECT_EQ(fetch_one(fresh, "g", "t", 0).offset, 10);
  EXPECT_EQ(fetch_one(fresh, "g", "t", 1).offset, 5);
  EXPECT_EQ(fetch_one(fresh, "g", "t", 2, true).error, ErrorCode::kUnstableOffsetCommit);
  EXPECT_EQ(fetch_one(fresh, "h", "t", 0, true).error, ErrorCode::kUnstableOffsetCommit);
  EXPECT_EQ(fresh.describe_group("aborted-only").state, "Dead");
  EXPECT_EQ(fresh.list_groups({}).size(), coord->list_groups({}).size());

  // Open transactions stay pending after loading; their markers may come later.
  fresh.complete_txn(fresh.partition_for("g"), kPid + 2, true);
  fresh.complete_txn(fresh.partition_for("h"), kPid, true);
  EXPECT_EQ(fetch_one(fresh, "g", "t", 2, true).offset, 32);
  EXPECT_EQ(fetch_one(fresh, "g", "t", 2, true).metadata, "open");
  EXPECT_EQ(fetch_one(fresh, "h", "t", 0, true).offset, 7);
}

TEST_F(GroupTxnOffsetsTest, MemberAndGenerationAreValidatedWhenGiven) {
  const std::string member = stable_single("g");  // generation 1
  const size_t writes = log.appends.size();
  EXPECT_EQ((*txn_commit("g", kPid, {P("t", 0, 1)}, 1, "nobody"))[0].error,
            ErrorCode::kUnknownMemberId);
  EXPECT_EQ((*txn_commit("g", kPid, {P("t", 0, 1)}, 0, member))[0].error,
            ErrorCode::kIllegalGeneration);
  EXPECT_EQ((*txn_commit("g", kPid, {P("t", 0, 1)}, -1, member))[0].error,
            ErrorCode::kIllegalGeneration);
  EXPECT_EQ((*txn_commit("g", kPid, {P("t", 0, 1)}, 1, member, "not-registered"))[0].error,
            ErrorCode::kUnknownMemberId);
  EXPECT_EQ(log.appends.size(), writes);  // nothing was written
  // v0-2 clients send no member information: accepted even though the group has members.
  EXPECT_EQ((*txn_commit("g", kPid, {P("t", 0, 1)}))[0].error, ErrorCode::kNone);
  EXPECT_EQ((*txn_commit("g", kPid, {P("t", 0, 2)}, 1, member))[0].error, ErrorCode::kNone);
  end_txn("g", kPid, true);
  EXPECT_EQ(fetch_one("g", "t", 0).offset, 2);
  // An unknown group with member information: no such member.
  EXPECT_EQ((*txn_commit("new", kPid, {P("t", 0, 1)}, 3, "m"))[0].error,
            ErrorCode::kUnknownMemberId);
  EXPECT_EQ(state("new"), "Dead");
  EXPECT_EQ((*txn_commit("", kPid, {P("t", 0, 1)}))[0].error, ErrorCode::kInvalidGroupId);
}

TEST_F(GroupTxnOffsetsTest, StaticMemberFencing) {
  auto j = join(join_request("g", "", {{"range", testing::subscription({"t"})}}, "inst"));
  ASSERT_TRUE(j.ready());
  sync("g", j->member_id, j->generation_id, {{j->member_id, "A"}});
  EXPECT_EQ((*txn_commit("g", kPid, {P("t", 0, 1)}, j->generation_id, "old-id", "inst"))[0].error,
            ErrorCode::kFencedInstanceId);
  EXPECT_EQ(
      (*txn_commit("g", kPid, {P("t", 0, 1)}, j->generation_id, j->member_id, "inst"))[0].error,
      ErrorCode::kNone);
}

TEST_F(GroupTxnOffsetsTest, MetadataTooLargeFailsOnlyThatPartition) {
  auto a = txn_commit("g", kPid, {P("t", 0, 1, std::string(5000, 'x')), P("t", 1, 2)});
  EXPECT_EQ(*a, (std::vector<TopicPartitionError>{{"t", 0, ErrorCode::kOffsetMetadataTooLarge},
                                                  {"t", 1, ErrorCode::kNone}}));
  ASSERT_EQ(log.appends.back().records.size(), 1u);
  end_txn("g", kPid, true);
  EXPECT_EQ(fetch_one("g", "t", 0).offset, -1);
  EXPECT_EQ(fetch_one("g", "t", 1).offset, 2);
}

TEST_F(GroupTxnOffsetsTest, AnswersWhenDurableAndFailedAppendLeavesNothingPending) {
  log.hold = true;
  auto a = txn_commit("g", kPid, {P("t", 0, 1)});
  EXPECT_FALSE(a.ready());
  log.complete_held(absl::UnavailableError("disk"));
  ASSERT_TRUE(a.ready());
  EXPECT_EQ((*a)[0].error, ErrorCode::kCoordinatorNotAvailable);
  EXPECT_EQ(fetch_one("g", "t", 0, true).error, ErrorCode::kNone);
  coord->complete_txn(coord->partition_for("g"), kPid, true);
  EXPECT_EQ(fetch_one("g", "t", 0).offset, -1);
  EXPECT_EQ(state("g"), "Dead");  // nothing was ever stored for it
}

TEST_F(GroupTxnOffsetsTest, FencedProducerGetsTheLogsError) {
  log.hold = true;
  auto a = txn_commit("g", kPid, {P("t", 0, 1)});
  log.complete_held(storage::kafka_error(ErrorCode::kInvalidProducerEpoch, "old epoch"));
  ASSERT_TRUE(a.ready());
  EXPECT_EQ((*a)[0].error, ErrorCode::kInvalidProducerEpoch);
}

TEST_F(GroupTxnOffsetsTest, VerificationRefusalLeavesNothingPendingAndOnlyTheFirstIsAsked) {
  int asked = 0;
  ErrorCode verdict = ErrorCode::kInvalidTxnState;
  auto verified_commit = [&](int64_t offset) {
    TxnOffsetCommitRequest r;
    r.group_id = "g";
    r.producer_id = kPid;
    r.producer_epoch = kEpoch;
    r.partitions = {P("t", 0, offset)};
    r.verify = [&](int64_t pid, int16_t epoch) {
      ++asked;
      EXPECT_EQ(pid, kPid);
      EXPECT_EQ(epoch, kEpoch);
      return verdict == ErrorCode::kNone ? absl::OkStatus()
                                         : storage::kafka_error(verdict, "not in the txn");
    };
    Answer<std::vector<TopicPartitionError>> a;
    coord->commit_txn_offsets(std::move(r), a.callback());
    return a;
  };
  auto refused = verified_commit(5);
  ASSERT_TRUE(refused.ready());
  EXPECT_EQ((*refused)[0].error, ErrorCode::kInvalidTxnState);
  EXPECT_EQ(log.verify_refusals, 1);
  EXPECT_TRUE(log.appends.empty());
  EXPECT_EQ(fetch_one("g", "t", 0, true).error, ErrorCode::kNone);  // nothing pending
  EXPECT_EQ(state("g"), "Dead");

  verdict = ErrorCode::kNone;
  EXPECT_EQ((*verified_commit(6))[0].error, ErrorCode::kNone);
  EXPECT_EQ((*verified_commit(7))[0].error, ErrorCode::kNone);
  EXPECT_EQ(asked, 2);  // the second commit of the open transaction is not asked about
  end_txn("g", kPid, true);
  EXPECT_EQ(fetch_one("g", "t", 0).offset, 7);
}

TEST_F(GroupTxnOffsetsTest, DeletingTheGroupDropsPendingOffsets) {
  commit("g", {P("t", 0, 1)});
  txn_commit("g", kPid, {P("t", 0, 10), P("t", 1, 11)});
  Answer<std::vector<std::pair<std::string, ErrorCode>>> d;
  coord->delete_groups({"g"}, d.callback());
  ASSERT_TRUE(d.ready());
  EXPECT_EQ((*d)[0].second, ErrorCode::kNone);
  // Tombstones for the committed and the pending partitions, then the group's.
  EXPECT_EQ(log.appends.back().records.size(), 3u);
  end_txn("g", kPid, true);
  EXPECT_EQ(state("g"), "Dead");
  EXPECT_EQ(fetch_one("g", "t", 0, true).offset, -1);
  EXPECT_EQ(fetch_one("g", "t", 1, true).error, ErrorCode::kNone);
  GroupCoordinator fresh(config, &clock, &log);
  log.replay_into(fresh);
  EXPECT_EQ(fresh.describe_group("g").state, "Dead");
  EXPECT_EQ(view(fresh, "g"), view(*coord, "g"));
}

TEST_F(GroupTxnOffsetsTest, OffsetDeleteAndRetentionDropPendingOfThatPartition) {
  GroupConfig cfg = default_config();
  cfg.offsets_retention_ms = 100000;
  cfg.offsets_retention_check_interval_ms = 1000;
  reset(cfg);
  commit("g", {P("t", 0, 1), P("t", 1, 1)});
  txn_commit("g", kPid, {P("t", 0, 10), P("t", 1, 11), P("t", 2, 12)});
  Answer<OffsetDeleteResult> od;
  coord->delete_offsets("g", {{"t", 1}}, od.callback());
  ASSERT_TRUE(od.ready());
  EXPECT_EQ(fetch_one("g", "t", 1, true).error, ErrorCode::kNone);
  advance(100000);  // t-0 expires, and its pending offset with it
  EXPECT_EQ(fetch_one("g", "t", 0, true).error, ErrorCode::kNone);
  EXPECT_EQ(fetch_one("g", "t", 0, true).offset, -1);
  // The group waits for its open transaction (t-2 is pending) instead of going.
  EXPECT_EQ(state("g"), "Empty");
  EXPECT_EQ(fetch_one("g", "t", 2, true).error, ErrorCode::kUnstableOffsetCommit);
  GroupCoordinator fresh(cfg, &clock, &log);
  log.replay_into(fresh);
  EXPECT_EQ(view(fresh, "g"), view(*coord, "g"));
  end_txn("g", kPid, true);
  EXPECT_EQ(fetch_one("g", "t", 2).offset, 12);
  EXPECT_EQ(fetch_one("g", "t", 0).offset, -1);
}

TEST_F(GroupTxnOffsetsTest, ConcurrentProducersSmoke) {
  // Producers commit transactional offsets and end their transactions from several threads
  // while others fetch and tick; every answer arrives and each group ends with its last
  // committed transaction's offsets.
  std::atomic<bool> stop{false};
  std::thread ticker([&] {
    while (!stop) {
      coord->tick();
      coord->fetch_offsets("g0", std::nullopt, true);
    }
  });
  std::atomic<int> answers{0};
  std::vector<std::thread> producers;
  for (int t = 0; t < 4; ++t) {
    producers.emplace_back([&, t] {
      const std::string g = "g" + std::to_string(t % 2);
      const int64_t pid = 100 + t;
      for (int round = 0; round < 50; ++round) {
        TxnOffsetCommitRequest r;
        r.group_id = g;
        r.producer_id = pid;
        r.producer_epoch = 0;
        r.partitions.push_back({"t", t, round, -1, std::nullopt});
        coord->commit_txn_offsets(r, [&](std::vector<TopicPartitionError> e) {
          EXPECT_EQ(e[0].error, ErrorCode::kNone);
          ++answers;
        });
        coord->complete_txn(coord->partition_for(g), pid, round % 5 != 4);
      }
    });
  }
  for (auto& p : producers) p.join();
  stop = true;
  ticker.join();
  EXPECT_EQ(answers.load(), 4 * 50);
  for (int t = 0; t < 4; ++t) {
    // Round 48 was the last committed one (round 49 aborted).
    EXPECT_EQ(fetch_one("g" + std::to_string(t % 2), "t", t, true).offset, 48);
  }
}

}  // namespace
}  // namespace gregor::coordinator

// The rules of `group offsets reset` without a broker: which partitions, the new offset for
// each kind of reset (with clamping), and the refusal text for active groups.
#include "tools/gregorctl/offset_reset.h"

#include <gtest/gtest.h>

namespace gregor::tools {
namespace {

ClusterMetadata two_topics() {
  ClusterMetadata md;
  TopicInfo orders;
  orders.name = "orders";
  for (int32_t p : {0, 1, 2}) orders.partitions.push_back(PartitionInfo{0, p, 1, 0, {1}, {1}, {}});
  TopicInfo gone;
  gone.name = "gone";
  gone.error_code = 3;
  md.topics = {orders, gone};
  return md;
}

TEST(OffsetReset, WholeTopicAndChosenPartitions) {
  GroupOffsets committed;
  auto all = partitions_to_reset({{"orders", {}}}, false, committed, two_topics());
  ASSERT_TRUE(all.ok()) << all.status();
  EXPECT_EQ(*all, (std::vector<TopicPartition>{{"orders", 0}, {"orders", 1}, {"orders", 2}}));
  auto some = partitions_to_reset({{"orders", {2, 0}}}, false, committed, two_topics());
  ASSERT_TRUE(some.ok());
  EXPECT_EQ(*some, (std::vector<TopicPartition>{{"orders", 0}, {"orders", 2}}));
}

TEST(OffsetReset, AllTopicsMeansWhatTheGroupCommitted) {
  GroupOffsets committed;
  committed.offsets[{"orders", 1}] = CommittedOffset{4, "", 0};
  committed.offsets[{"audit", 0}] = CommittedOffset{9, "", 0};
  auto all = partitions_to_reset({}, true, committed, two_topics());
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(*all, (std::vector<TopicPartition>{{"audit", 0}, {"orders", 1}}));
}

TEST(OffsetReset, UnknownTopicOrPartition) {
  GroupOffsets none;
  auto topic = partitions_to_reset({{"gone", {}}}, false, none, two_topics());
  EXPECT_EQ(topic.status().message(), "topic 'gone' does not exist (UNKNOWN_TOPIC_OR_PARTITION)");
  auto missing = partitions_to_reset({{"nowhere", {}}}, false, none, two_topics());
  EXPECT_FALSE(missing.ok());
  auto partition = partitions_to_reset({{"orders", {7}}}, false, none, two_topics());
  EXPECT_EQ(partition.status().message(),
            "partition 'orders-7' does not exist (UNKNOWN_TOPIC_OR_PARTITION)");
}

std::map<TopicPartition, ResetInputs> inputs() {
  std::map<TopicPartition, ResetInputs> in;
  in[{"t", 0}] = ResetInputs{10, 50, 30, 40};
  in[{"t", 1}] = ResetInputs{0, 5, std::nullopt, std::nullopt};
  return in;
}

std::map<TopicPartition, int64_t> plan(ResetKind kind, int64_t value,
                                       std::map<TopicPartition, ResetInputs> in = inputs()) {
  auto p = plan_reset(ResetSpec{kind, value}, in);
  EXPECT_TRUE(p.ok()) << p.status();
  return p.ok() ? *p : std::map<TopicPartition, int64_t>{};
}

TEST(OffsetReset, EarliestAndLatest) {
  auto earliest = plan(ResetKind::kToEarliest, 0);
  EXPECT_EQ(earliest[TopicPartition({"t", 0})], 10);
  EXPECT_EQ(earliest[TopicPartition({"t", 1})], 0);
  auto latest = plan(ResetKind::kToLatest, 0);
  EXPECT_EQ(latest[TopicPartition({"t", 0})], 50);
  EXPECT_EQ(latest[TopicPartition({"t", 1})], 5);
}

TEST(OffsetReset, ToOffsetIsClamped) {
  auto p = plan(ResetKind::kToOffset, 20);
  EXPECT_EQ(p[TopicPartition({"t", 0})], 20);
  EXPECT_EQ(p[TopicPartition({"t", 1})], 5);
  EXPECT_EQ(plan(ResetKind::kToOffset, 3)[TopicPartition({"t", 0})], 10);
}

TEST(OffsetReset, DatetimePastTheEndMeansLatest) {
  auto p = plan(ResetKind::kToDatetime, 1'700'000'000'000);
  EXPECT_EQ(p[TopicPartition({"t", 0})], 40);
  EXPECT_EQ(p[TopicPartition({"t", 1})], 5);
}

TEST(OffsetReset, ShiftByIsRelativeAndClamped) {
  std::map<TopicPartition, ResetInputs> in;
  in[{"t", 0}] = ResetInputs{10, 50, 30, std::nullopt};
  EXPECT_EQ(plan(ResetKind::kShiftBy, -5, in)[TopicPartition({"t", 0})], 25);
  EXPECT_EQ(plan(ResetKind::kShiftBy, 100, in)[TopicPartition({"t", 0})], 50);
  EXPECT_EQ(plan(ResetKind::kShiftBy, -100, in)[TopicPartition({"t", 0})], 10);
  EXPECT_EQ(plan(ResetKind::kShiftBy, INT64_MAX, in)[TopicPartition({"t", 0})], 50);
  EXPECT_EQ(plan(ResetKind::kShiftBy, INT64_MIN, in)[TopicPartition({"t", 0})], 10);
}

TEST(OffsetReset, ShiftByNeedsACommittedOffset) {
  auto p = plan_reset(ResetSpec{ResetKind::kShiftBy, 1}, inputs());
  EXPECT_EQ(p.status().message(),
            "cannot shift the offset of partition 't-1': the group has no committed offset for it");
}

TEST(OffsetReset, BrokenRangeDoesNotCrash) {
  std::map<TopicPartition, ResetInputs> in;
  in[{"t", 0}] = ResetInputs{9, 3, 5, std::nullopt};  // earliest > latest from a broken broker
  EXPECT_EQ(plan(ResetKind::kToOffset, 5, in).size(), 1u);
}

TEST(OffsetReset, OnlyInactiveGroups) {
  EXPECT_TRUE(group_is_inactive("Empty"));
  EXPECT_TRUE(group_is_inactive("Dead"));
  EXPECT_FALSE(group_is_inactive("Stable"));
  EXPECT_FALSE(group_is_inactive("PreparingRebalance"));
  EXPECT_FALSE(group_is_inactive("CompletingRebalance"));
  EXPECT_EQ(active_group_message("g", "Stable"),
            "Assignments can only be reset if the group 'g' is inactive, but the current state "
            "is Stable.");
}

}  // namespace
}  // namespace gregor::tools

// The consumer-group calls gregorctl makes (ListGroups, FindCoordinator, DescribeGroups,
// OffsetFetch, DeleteGroups, ListOffsets, OffsetCommit), each at the best version both sides
// support, with the answers turned into the version-free group_model types. Status errors are
// for failures of a call itself; per-group and per-partition Kafka errors are error codes.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "tools/gregorctl/group_model.h"
#include "tools/gregorctl/kafka_client.h"

namespace gregor::tools {

// ListOffsets' special timestamps.
inline constexpr int64_t kLatestTimestamp = -1;
inline constexpr int64_t kEarliestTimestamp = -2;

struct GroupList {
  int16_t error_code = 0;
  std::vector<GroupListing> groups;
};

// Groups this broker coordinates. A non-empty `states` needs ListGroups v4 (FailedPrecondition
// otherwise); the broker filters.
absl::StatusOr<GroupList> list_groups(KafkaClient& client, const std::vector<std::string>& states);

// FindCoordinator for one key: key type 0 is a group, 1 a transactional id.
absl::StatusOr<Coordinator> find_coordinator(KafkaClient& client, const std::string& key,
                                             int8_t key_type);
// FindCoordinator for a group (key type 0).
inline absl::StatusOr<Coordinator> find_group_coordinator(KafkaClient& client,
                                                          const std::string& group) {
  return find_coordinator(client, group, 0);
}

// DescribeGroups for one group. Members' subscription and assignment are decoded only for
// protocol type "consumer" (or ""); bytes that do not decode leave them empty.
absl::StatusOr<GroupDescription> describe_group(KafkaClient& client, const std::string& group);

struct GroupOffsets {
  int16_t error_code = 0;  // group-level error
  std::map<TopicPartition, CommittedOffset> offsets;
};
// Every offset the group has committed (OffsetFetch with null topics, v2+).
absl::StatusOr<GroupOffsets> fetch_group_offsets(KafkaClient& client, const std::string& group);

struct GroupResult {
  std::string group_id;
  int16_t error_code = 0;
};
// One result per group asked for, in that order.
absl::StatusOr<std::vector<GroupResult>> delete_groups(KafkaClient& client,
                                                       const std::vector<std::string>& groups);

// ListOffsets (read_uncommitted) for every partition at `timestamp`: a time in ms, or
// kLatestTimestamp / kEarliestTimestamp. Partitions missing from the answer carry
// UNKNOWN_SERVER_ERROR. REQUIRES: `client` leads every partition (or the broker says otherwise).
absl::StatusOr<std::map<TopicPartition, OffsetLookup>> list_offsets(
    KafkaClient& client, const std::vector<TopicPartition>& partitions, int64_t timestamp);

// An admin OffsetCommit (generation -1, empty member id): what Kafka accepts only while the
// group has no members. Per-partition error codes; a partition missing from the answer carries
// UNKNOWN_SERVER_ERROR.
absl::StatusOr<std::map<TopicPartition, int16_t>> commit_offsets(
    KafkaClient& client, const std::string& group,
    const std::map<TopicPartition, int64_t>& offsets);

}  // namespace gregor::tools

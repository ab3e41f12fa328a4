// The group coordinator's inputs and outputs: configuration and one request/result pair per
// operation, in plain types the broker's handlers fill from (and turn into) wire messages.
#pragma once

#include <cstdint>
#include <functional>
#include <limits>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "protocol/error_codes.h"
#include "storage/txn_verifier.h"

namespace gregor::coordinator {

using protocol::ErrorCode;

inline constexpr ErrorCode kGroupSubscribedToTopic = ErrorCode::kGroupSubscribedToTopic;

// Kafka's broker properties for groups and offsets, with Kafka's defaults.
struct GroupConfig {
  int32_t group_min_session_timeout_ms = 6000;
  int32_t group_max_session_timeout_ms = 1800000;
  int32_t group_initial_rebalance_delay_ms = 3000;
  int32_t group_max_size = std::numeric_limits<int32_t>::max();
  int32_t offset_metadata_max_bytes = 4096;
  int64_t offsets_retention_ms = 7LL * 24 * 60 * 60 * 1000;  // offsets.retention.minutes=10080
  int64_t offsets_retention_check_interval_ms = 600000;
  int32_t offsets_topic_num_partitions = 50;
};

struct Protocol {
  std::string name;
  std::string metadata;
  bool operator==(const Protocol&) const = default;
};

struct JoinGroupRequest {
  std::string group_id;
  std::string member_id;  // "" on the first join
  std::optional<std::string> group_instance_id;
  std::string client_id;
  std::string client_host;
  int32_t session_timeout_ms = 0;
  int32_t rebalance_timeout_ms = -1;  // -1 (v0): the session timeout is used
  std::string protocol_type;
  std::vector<Protocol> protocols;        // in the member's order of preference
  bool require_known_member_id = false;   // JoinGroup v4+ (KIP-394)
  bool supports_skip_assignment = false;  // JoinGroup v9+ (KIP-814)
};

struct JoinGroupMember {
  std::string member_id;
  std::optional<std::string> group_instance_id;
  std::string metadata;
};

struct JoinGroupResult {
  ErrorCode error = ErrorCode::kNone;
  int32_t generation_id = -1;
  std::optional<std::string> protocol_type;
  std::optional<std::string> protocol_name;
  std::string leader_id;
  std::string member_id;
  bool skip_assignment = false;
  std::vector<JoinGroupMember> members;  // only for the leader
};
using JoinCallback = std::function<void(JoinGroupResult)>;

struct SyncGroupRequest {
  std::string group_id;
  int32_t generation_id = -1;
  std::string member_id;
  std::optional<std::string> group_instance_id;
  std::optional<std::string> protocol_type;                      // v5+
  std::optional<std::string> protocol_name;                      // v5+
  std::vector<std::pair<std::string, std::string>> assignments;  // member id -> bytes (leader)
};

struct SyncGroupResult {
  ErrorCode error = ErrorCode::kNone;
  std::optional<std::string> protocol_type;
  std::optional<std::string> protocol_name;
  std::string assignment;
};
using SyncCallback = std::function<void(SyncGroupResult)>;

struct HeartbeatRequest {
  std::string group_id;
  int32_t generation_id = -1;
  std::string member_id;
  std::optional<std::string> group_instance_id;
};

struct LeavingMember {
  std::string member_id;  // "" with a group_instance_id: remove that static member
  std::optional<std::string> group_instance_id;
};

struct LeaveGroupResult {
  ErrorCode error = ErrorCode::kNone;
  std::vector<ErrorCode> member_errors;  // one per LeavingMember, same order
};

struct TopicPartitionError {
  std::string topic;
  int32_t partition = 0;
  ErrorCode error = ErrorCode::kNone;
  bool operator==(const TopicPartitionError&) const = default;
};

struct OffsetCommitPartition {
  std::string topic;
  int32_t partition = 0;
  int64_t offset = 0;
  int32_t leader_epoch = -1;
  std::optional<std::string> metadata;  // null is stored as ""
};

struct OffsetCommitRequest {
  std::string group_id;
  int32_t generation_id = -1;
  std::string member_id;
  std::optional<std::string> group_instance_id;
  int64_t retention_time_ms = -1;  // v2-4; -1 = the broker's retention
  std::vector<OffsetCommitPartition> partitions;
};
using OffsetCommitCallback = std::function<void(std::vector<TopicPartitionError>)>;

// TxnOffsetCommit: offsets a transactional producer commits for a group as part of its
// transaction (send_offsets_to_transaction). v0-2 clients send no member information.
struct TxnOffsetCommitRequest {
  std::string group_id;
  int64_t producer_id = -1;
  int16_t producer_epoch = -1;
  int32_t generation_id = -1;  // -1 = none (v0-2)
  std::string member_id;       // "" = none (v0-2)
  std::optional<std::string> group_instance_id;
  std::vector<OffsetCommitPartition> partitions;
  // Checks that the group's partition is in the producer's transaction (the broker asks the
  // transaction coordinator); empty: no check.
  storage::TxnVerifier verify;
};

struct OffsetFetchTopic {
  std::string topic;
  std::vector<int32_t> partitions;
};

struct FetchedOffset {
  std::string topic;
  int32_t partition = 0;
  int64_t offset = -1;
  int32_t leader_epoch = -1;
  std::string metadata;
  // Per partition: UNSTABLE_OFFSET_COMMIT (offset -1) when require_stable and a transactional
  // offset of this partition waits for its transaction's outcome.
  ErrorCode error = ErrorCode::kNone;
};

struct OffsetFetchResult {
  ErrorCode error = ErrorCode::kNone;
  std::vector<FetchedOffset> partitions;
};

struct TopicPartition {
  std::string topic;
  int32_t partition = 0;
  auto operator<=>(const TopicPartition&) const = default;
};

struct OffsetDeleteResult {
  ErrorCode error = ErrorCode::kNone;
  std::vector<TopicPartitionError> partitions;
};
using OffsetDeleteCallback = std::function<void(OffsetDeleteResult)>;
using DeleteGroupsCallback = std::function<void(std::vector<std::pair<std::string, ErrorCode>>)>;

struct GroupListing {
  std::string group_id;
  std::string protocol_type;
  std::string state;
};

struct MemberDescription {
  std::string member_id;
  std::optional<std::string> group_instance_id;
  std::string client_id;
  std::string client_host;
  std::string metadata;    // only when Stable
  std::string assignment;  // only when Stable
};

struct GroupDescription {
  ErrorCode error = ErrorCode::kNone;
  std::string group_id;
  std::string state;  // "Dead" for an unknown group, as Kafka answers
  std::string protocol_type;
  std::string protocol;  // "" unless Stable
  std::vector<MemberDescription> members;
};

}  // namespace gregor::coordinator

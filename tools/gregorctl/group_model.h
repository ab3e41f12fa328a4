// What gregorctl learns from the group coordinator and the partition leaders, independent of
// protocol versions: group_admin fills these, the group commands combine and print them.
#pragma once

#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "tools/gregorctl/blocking_socket.h"

namespace gregor::tools {

struct TopicPartition {
  std::string topic;
  int32_t partition = 0;

  auto operator<=>(const TopicPartition&) const = default;
  bool operator==(const TopicPartition&) const = default;
};

// One topic's partitions, as the consumer protocol lists them.
struct TopicPartitions {
  std::string topic;
  std::vector<int32_t> partitions;

  bool operator==(const TopicPartitions&) const = default;
};

struct GroupListing {
  std::string group_id;
  std::string protocol_type;         // "consumer" for Kafka consumers; "" for offsets-only groups
  std::optional<std::string> state;  // only from ListGroups v4+
};

struct Coordinator {
  int16_t error_code = 0;
  std::optional<std::string> error_message;
  int32_t node_id = -1;
  HostPort address;
};

struct GroupMember {
  std::string member_id;
  std::optional<std::string> group_instance_id;
  std::string client_id;
  std::string client_host;
  std::vector<std::string> subscription;    // topics, when the metadata decodes as a consumer's
  std::vector<TopicPartitions> assignment;  // likewise from the assignment bytes
};

struct GroupDescription {
  int16_t error_code = 0;
  std::string group_id;
  std::string state;  // Empty, PreparingRebalance, CompletingRebalance, Stable, Dead
  std::string protocol_type;
  std::string protocol;  // the chosen assignor ("range", "cooperative-sticky", ...)
  std::vector<GroupMember> members;
};

struct CommittedOffset {
  int64_t offset = -1;  // -1: none committed
  std::optional<std::string> metadata;
  int16_t error_code = 0;
};

// The answer ListOffsets gave for one partition.
struct OffsetLookup {
  int16_t error_code = 0;
  int64_t offset = -1;  // -1: none (e.g. no record at or after the timestamp)
};

}  // namespace gregor::tools

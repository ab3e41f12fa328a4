// The consumer protocol's Subscription and Assignment: the opaque bytes a Kafka consumer puts in
// JoinGroup metadata and SyncGroup assignments, which DescribeGroups hands back unchanged.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "tools/gregorctl/group_model.h"

namespace gregor::tools {

// Layout (never flexible; later versions only append fields, so a newer version is read as far
// as we know it and the rest ignored, as Kafka's clients do):
//   version int16
//   assigned_partitions [topic string, partitions [int32]]
//   user_data nullable bytes
struct ConsumerAssignment {
  int16_t version = 0;
  std::vector<TopicPartitions> partitions;
  std::optional<std::string> user_data;
};

//   version int16, topics [string], user_data nullable bytes,
//   v1+: owned_partitions [topic string, partitions [int32]], v2+: generation_id int32,
//   v3+: rack_id nullable string
struct ConsumerSubscription {
  int16_t version = 0;
  std::vector<std::string> topics;
  std::optional<std::string> user_data;
  std::vector<TopicPartitions> owned_partitions;
  int32_t generation_id = -1;
  std::optional<std::string> rack_id;
};

// Empty bytes (a member between rebalances) decode as an empty assignment. DataLoss for
// anything truncated or malformed.
absl::StatusOr<ConsumerAssignment> decode_consumer_assignment(std::string_view bytes);
absl::StatusOr<ConsumerSubscription> decode_consumer_subscription(std::string_view bytes);

// The inverses, at the struct's version (tests build members' bytes with them).
std::string encode_consumer_assignment(const ConsumerAssignment& a);
std::string encode_consumer_subscription(const ConsumerSubscription& s);

}  // namespace gregor::tools

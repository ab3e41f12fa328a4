// The pure part of `group offsets reset`: which partitions to move and where, from what the
// coordinator and the leaders said. No I/O, so every rule is tested without a broker.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "tools/gregorctl/cli_args.h"
#include "tools/gregorctl/group_admin.h"
#include "tools/gregorctl/group_model.h"
#include "tools/gregorctl/topic_model.h"

namespace gregor::tools {

// The partitions named by --topic (every partition of the topic in `metadata`, or the ones
// listed) or by --all-topics (every partition `committed` has an offset for), sorted.
// InvalidArgument / NotFound naming the topic or partition when one does not exist.
absl::StatusOr<std::vector<TopicPartition>> partitions_to_reset(
    const std::vector<TopicSelection>& topics, bool all_topics, const GroupOffsets& committed,
    const ClusterMetadata& metadata);

// What the plan needs to know about one partition.
struct ResetInputs {
  int64_t earliest = 0;              // log start offset
  int64_t latest = 0;                // log end offset
  std::optional<int64_t> committed;  // the group's current offset, when it has one
  std::optional<int64_t> at_time;    // kToDatetime: ListOffsets' answer (nullopt: none found)
};

// New offset per partition, like kafka-consumer-groups.sh: --to-offset and --shift-by are
// clamped to [earliest, latest]; --to-datetime past the last record means latest.
// InvalidArgument when --shift-by meets a partition without a committed offset.
absl::StatusOr<std::map<TopicPartition, int64_t>> plan_reset(
    const ResetSpec& spec, const std::map<TopicPartition, ResetInputs>& inputs);

// Kafka refuses admin commits while a group has members; so do we, before asking.
bool group_is_inactive(const std::string& state);
std::string active_group_message(const std::string& group, const std::string& state);

}  // namespace gregor::tools

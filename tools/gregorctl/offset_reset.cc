// Partition selection and the new-offset rules of `group offsets reset`.
#include "tools/gregorctl/offset_reset.h"

#include <algorithm>
#include <cstdint>
#include <set>

#include "absl/strings/str_cat.h"

namespace gregor::tools {

absl::StatusOr<std::vector<TopicPartition>> partitions_to_reset(
    const std::vector<TopicSelection>& topics, bool all_topics, const GroupOffsets& committed,
    const ClusterMetadata& metadata) {
  std::set<TopicPartition> out;
  if (all_topics) {
    for (const auto& [tp, offset] : committed.offsets) out.insert(tp);
  }
  for (const TopicSelection& selection : topics) {
    auto topic = std::find_if(metadata.topics.begin(), metadata.topics.end(),
                              [&](const TopicInfo& t) { return t.name == selection.topic; });
    if (topic == metadata.topics.end() || topic->error_code != 0) {
      return absl::NotFoundError(absl::StrCat("topic '", selection.topic,
                                              "' does not exist (UNKNOWN_TOPIC_OR_PARTITION)"));
    }
    if (selection.partitions.empty()) {
      for (const PartitionInfo& p : topic->partitions) out.insert({selection.topic, p.partition});
      continue;
    }
    for (int32_t partition : selection.partitions) {
      bool known = std::any_of(topic->partitions.begin(), topic->partitions.end(),
                               [&](const PartitionInfo& p) { return p.partition == partition; });
      if (!known) {
        return absl::NotFoundError(absl::StrCat("partition '", selection.topic, "-", partition,
                                                "' does not exist (UNKNOWN_TOPIC_OR_PARTITION)"));
      }
      out.insert({selection.topic, partition});
    }
  }
  return std::vector<TopicPartition>(out.begin(), out.end());
}

absl::StatusOr<std::map<TopicPartition, int64_t>> plan_reset(
    const ResetSpec& spec, const std::map<TopicPartition, ResetInputs>& inputs) {
  std::map<TopicPartition, int64_t> plan;
  for (const auto& [tp, in] : inputs) {
    // Not std::clamp: a broker that answers earliest > latest must not make this undefined.
    auto clamp = [&](int64_t offset) { return std::max(in.earliest, std::min(offset, in.latest)); };
    switch (spec.kind) {
      case ResetKind::kToEarliest:
        plan[tp] = in.earliest;
        break;
      case ResetKind::kToLatest:
        plan[tp] = in.latest;
        break;
      case ResetKind::kToOffset:
        plan[tp] = clamp(spec.value);
        break;
      case ResetKind::kToDatetime:
        plan[tp] = in.at_time && *in.at_time >= 0 ? clamp(*in.at_time) : in.latest;
        break;
      case ResetKind::kShiftBy: {
        if (!in.committed) {
          return absl::InvalidArgumentError(
              absl::StrCat("cannot shift the offset of partition '", tp.topic, "-", tp.partition,
                           "': the group has no committed offset for it"));
        }
        // Saturate rather than overflow on absurd shifts; the clamp brings it into range.
        int64_t shifted = 0;
        if (__builtin_add_overflow(*in.committed, spec.value, &shifted)) {
          shifted = spec.value < 0 ? INT64_MIN : INT64_MAX;
        }
        plan[tp] = clamp(shifted);
        break;
      }
    }
  }
  return plan;
}

bool group_is_inactive(const std::string& state) {
  return state == "Empty" || state == "Dead";
}

std::string active_group_message(const std::string& group, const std::string& state) {
  return absl::StrCat("Assignments can only be reset if the group '", group,
                      "' is inactive, but the current state is ", state, ".");
}

}  // namespace gregor::tools

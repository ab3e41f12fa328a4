// The partitions of an OffsetCommit or TxnOffsetCommit request: those of topics that do not
// exist answer UNKNOWN_TOPIC_OR_PARTITION at once (as Kafka does), the rest go to the group
// coordinator, and the answers are put back in request order. Templates over the generated
// request and response topic types of both APIs, which share these fields.
#pragma once

#include <cstddef>
#include <vector>

#include "broker/broker.h"
#include "broker/partition_manager.h"
#include "coordinator/group_types.h"
#include "protocol/error_codes.h"

namespace gregor::broker {

struct CommitPartitions {
  std::vector<coordinator::OffsetCommitPartition> known;  // for the coordinator
  std::vector<protocol::ErrorCode> errors;  // one per requested partition, in request order
  std::vector<size_t> forwarded;            // the index in `errors` of each known partition

  // Takes the coordinator's answers, one per known partition in the order handed over.
  void merge(const std::vector<coordinator::TopicPartitionError>& results) {
    for (size_t i = 0; i < results.size() && i < forwarded.size(); ++i) {
      errors[forwarded[i]] = results[i].error;
    }
  }
};

template <typename RequestTopics>
CommitPartitions split_commit_partitions(Broker& broker, const RequestTopics& topics) {
  CommitPartitions out;
  for (const auto& topic : topics) {
    for (const auto& p : topic.partitions) {
      if (!broker.partitions().get(topic.name, p.partition_index)) {
        out.errors.push_back(protocol::ErrorCode::kUnknownTopicOrPartition);
        continue;
      }
      out.forwarded.push_back(out.errors.size());
      out.errors.push_back(protocol::ErrorCode::kNone);
      out.known.push_back(
          coordinator::OffsetCommitPartition{topic.name, p.partition_index, p.committed_offset,
                                             p.committed_leader_epoch, p.committed_metadata});
    }
  }
  return out;
}

template <typename RequestTopics, typename ResponseTopics>
void fill_commit_response(const RequestTopics& topics, const CommitPartitions& partitions,
                          ResponseTopics& out) {
  size_t i = 0;
  for (const auto& topic : topics) {
    auto& t = out.emplace_back();
    t.name = topic.name;
    for (const auto& p : topic.partitions) {
      auto& o = t.partitions.emplace_back();
      o.partition_index = p.partition_index;
      o.error_code = protocol::code(partitions.errors[i++]);
    }
  }
}

}  // namespace gregor::broker

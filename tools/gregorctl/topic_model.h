// What gregorctl learns from the broker about topics, independent of protocol versions: the
// admin calls fill these, the formatters print them.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace gregor::tools {

struct PartitionInfo {
  int16_t error_code = 0;
  int32_t partition = 0;
  int32_t leader = -1;
  int32_t leader_epoch = -1;
  std::vector<int32_t> replicas;
  std::vector<int32_t> isr;
  std::vector<int32_t> offline_replicas;
};

struct TopicInfo {
  int16_t error_code = 0;
  std::string name;
  std::string topic_id;  // Kafka's text form (URL-safe base64); empty when the broker has none
  bool internal = false;
  std::vector<PartitionInfo> partitions;

  // Replicas of the first partition: what kafka-topics.sh reports as the replication factor.
  int replication_factor() const {
    return partitions.empty() ? 0 : static_cast<int>(partitions.front().replicas.size());
  }
};

struct BrokerInfo {
  int32_t node_id = 0;
  std::string host;
  int32_t port = 0;
  std::optional<std::string> rack;
};

struct ClusterMetadata {
  std::optional<std::string> cluster_id;
  int32_t controller_id = -1;
  std::vector<BrokerInfo> brokers;
  std::vector<TopicInfo> topics;
};

// Outcome of creating or deleting one topic.
struct TopicResult {
  std::string name;
  int16_t error_code = 0;
  std::optional<std::string> error_message;  // the broker's text, when it sent one
};

}  // namespace gregor::tools

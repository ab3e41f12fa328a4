// The in-memory image of cluster metadata, built by replaying metadata log records. Plain
// data: ClusterMetadata hands out copies, so readers never hold its lock.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "protocol/wire.h"

namespace gregor::coordinator {

struct PartitionInfo {
  int32_t partition_id = 0;
  std::vector<int32_t> replicas;
  std::vector<int32_t> isr;
  int32_t leader = -1;
  int32_t leader_epoch = 0;
  int32_t partition_epoch = 0;
};

struct TopicInfo {
  std::string name;
  protocol::Uuid topic_id{};
  std::vector<PartitionInfo> partitions;       // indexed by partition id
  std::map<std::string, std::string> configs;  // only the keys set on the topic
  bool internal = false;
};

// Metadata record types as stored in the metadata log (the numbering KRaft uses).
enum class MetadataRecordType : int16_t {
  kTopic = 2,
  kPartition = 3,
  kConfig = 4,
  kRemoveTopic = 9,
  kProducerIds = 15,
};

// ConfigRecord resource types (ConfigResource.Type): 2 = topic, 4 = broker.
inline constexpr int8_t kTopicResource = 2;

}  // namespace gregor::coordinator

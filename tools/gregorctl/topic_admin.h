// The topic admin calls gregorctl makes (Metadata, CreateTopics, DeleteTopics), each at the best
// version both sides support, with the answers turned into the version-free topic_model types.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "tools/gregorctl/kafka_client.h"
#include "tools/gregorctl/topic_model.h"

namespace gregor::tools {

struct NewTopic {
  std::string name;
  int32_t partitions = -1;          // -1: broker default (needs CreateTopics v4+)
  int16_t replication_factor = -1;  // -1: broker default (needs CreateTopics v4+)
  std::vector<std::pair<std::string, std::string>> configs;
};

// One result per requested topic, in request order. Errors (Status) are only for failures of
// the call itself; per-topic failures are in TopicResult::error_code.
absl::StatusOr<std::vector<TopicResult>> create_topics(KafkaClient& client,
                                                       const std::vector<NewTopic>& topics,
                                                       bool validate_only, int32_t timeout_ms);
absl::StatusOr<std::vector<TopicResult>> delete_topics(KafkaClient& client,
                                                       const std::vector<std::string>& names,
                                                       int32_t timeout_ms);

// Metadata for the named topics (in the order named; unknown ones carry their error code), or
// for every topic sorted by name when `names` is empty. Never asks the broker to auto-create.
absl::StatusOr<ClusterMetadata> fetch_metadata(KafkaClient& client,
                                               const std::vector<std::string>& names);

}  // namespace gregor::tools

// Builds Metadata / CreateTopics / DeleteTopics requests for the negotiated version and maps
// the responses back onto the topics asked for.
#include "tools/gregorctl/topic_admin.h"

#include <algorithm>
#include <map>

#include "protocol/error_codes.h"
#include "protocol/messages/create_topics_request.h"
#include "protocol/messages/create_topics_response.h"
#include "protocol/messages/delete_topics_request.h"
#include "protocol/messages/delete_topics_response.h"
#include "protocol/messages/metadata_request.h"
#include "protocol/messages/metadata_response.h"
#include "tools/gregorctl/output.h"

namespace gregor::tools {

namespace msg = protocol::msg;

namespace {

// Puts per-topic answers back in request order. A topic the broker left out of its answer is
// reported as a server error rather than silently counted as success.
std::vector<TopicResult> in_request_order(const std::vector<std::string>& names,
                                          std::map<std::string, TopicResult> by_name) {
  std::vector<TopicResult> out;
  for (const std::string& name : names) {
    auto it = by_name.find(name);
    if (it != by_name.end()) {
      out.push_back(it->second);
    } else {
      out.push_back({name, protocol::code(protocol::ErrorCode::kUnknownServerError),
                     std::string("the broker's response did not mention this topic")});
    }
  }
  return out;
}

}  // namespace

absl::StatusOr<std::vector<TopicResult>> create_topics(KafkaClient& client,
                                                       const std::vector<NewTopic>& topics,
                                                       bool validate_only, int32_t timeout_ms) {
  absl::StatusOr<int16_t> version = client.pick_version<msg::CreateTopicsRequest>();
  if (!version.ok()) return version.status();
  msg::CreateTopicsRequest request;
  request.timeout_ms = timeout_ms;
  request.validate_only = validate_only;
  std::vector<std::string> names;
  for (const NewTopic& t : topics) {
    // Before v4 (KIP-464) the broker cannot fill in its defaults.
    if (*version < 4 && (t.partitions < 0 || t.replication_factor < 0)) {
      return absl::FailedPreconditionError(
          absl::StrCat("the broker speaks CreateTopics v", *version,
                       " only, which needs explicit --partitions and --replication-factor"));
    }
    if (validate_only && *version < 1) {
      return absl::FailedPreconditionError("the broker does not support --validate-only");
    }
    auto& topic = request.topics.emplace_back();
    topic.name = t.name;
    topic.num_partitions = t.partitions;
    topic.replication_factor = t.replication_factor;
    for (const auto& [key, value] : t.configs) {
      auto& config = topic.configs.emplace_back();
      config.name = key;
      config.value = value;
    }
    names.push_back(t.name);
  }
  auto response =
      client.call<msg::CreateTopicsRequest, msg::CreateTopicsResponse>(request, *version);
  if (!response.ok()) return response.status();
  std::map<std::string, TopicResult> by_name;
  for (const auto& r : response->topics) {
    by_name[r.name] = TopicResult{r.name, r.error_code, r.error_message};
  }
  return in_request_order(names, std::move(by_name));
}

absl::StatusOr<std::vector<TopicResult>> delete_topics(KafkaClient& client,
                                                       const std::vector<std::string>& names,
                                                       int32_t timeout_ms) {
  absl::StatusOr<int16_t> version = client.pick_version<msg::DeleteTopicsRequest>();
  if (!version.ok()) return version.status();
  msg::DeleteTopicsRequest request;
  request.timeout_ms = timeout_ms;
  for (const std::string& name : names) {
    // Both forms are filled: the codec writes only the one that exists in `version`.
    request.topic_names.push_back(name);
    auto& state = request.topics.emplace_back();
    state.name = name;
    state.topic_id = protocol::Uuid{};
  }
  auto response =
      client.call<msg::DeleteTopicsRequest, msg::DeleteTopicsResponse>(request, *version);
  if (!response.ok()) return response.status();
  std::map<std::string, TopicResult> by_name;
  for (const auto& r : response->responses) {
    if (!r.name) continue;  // v6 answers by id only when asked by id, which we never do
    by_name[*r.name] = TopicResult{*r.name, r.error_code, r.error_message};
  }
  return in_request_order(names, std::move(by_name));
}

absl::StatusOr<ClusterMetadata> fetch_metadata(KafkaClient& client,
                                               const std::vector<std::string>& names) {
  absl::StatusOr<int16_t> version = client.pick_version<msg::MetadataRequest>();
  if (!version.ok()) return version.status();
  msg::MetadataRequest request;
  request.allow_auto_topic_creation = false;
  if (!names.empty()) {
    request.topics.emplace();
    for (const std::string& name : names) {
      auto& topic = request.topics->emplace_back();
      topic.name = name;
      topic.topic_id = protocol::Uuid{};
    }
  } else if (*version == 0) {
    request.topics.emplace();  // v0 has no null array: empty means every topic
  }
  // else: null topics, every topic (v1+)
  auto response = client.call<msg::MetadataRequest, msg::MetadataResponse>(request, *version);
  if (!response.ok()) return response.status();

  ClusterMetadata out;
  out.cluster_id = response->cluster_id;
  out.controller_id = response->controller_id;
  for (const auto& b : response->brokers) {
    out.brokers.push_back(BrokerInfo{b.node_id, b.host, b.port, b.rack});
  }
  std::map<std::string, TopicInfo> by_name;
  for (const auto& t : response->topics) {
    TopicInfo info;
    info.error_code = t.error_code;
    info.name = t.name.value_or("");
    info.topic_id = topic_id_string(t.topic_id);
    info.internal = t.is_internal;
    for (const auto& p : t.partitions) {
      PartitionInfo part;
      part.error_code = p.error_code;
      part.partition = p.partition_index;
      part.leader = p.leader_id;
      part.leader_epoch = p.leader_epoch;
      part.replicas = p.replica_nodes;
      part.isr = p.isr_nodes;
      part.offline_replicas = p.offline_replicas;
      info.partitions.push_back(std::move(part));
    }
    std::sort(
        info.partitions.begin(), info.partitions.end(),
        [](const PartitionInfo& a, const PartitionInfo& b) { return a.partition < b.partition; });
    by_name[info.name] = std::move(info);
  }
  if (names.empty()) {
    for (auto& [name, info] : by_name) out.topics.push_back(std::move(info));
  } else {
    for (const std::string& name : names) {
      auto it = by_name.find(name);
      if (it != by_name.end()) {
        out.topics.push_back(it->second);
      } else {
        TopicInfo missing;
        missing.name = name;
        missing.error_code = protocol::code(protocol::ErrorCode::kUnknownTopicOrPartition);
        out.topics.push_back(std::move(missing));
      }
    }
  }
  return out;
}

}  // namespace gregor::tools

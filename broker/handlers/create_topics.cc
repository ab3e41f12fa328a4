// CreateTopics (key 19, v0-7): validate names, partition counts, replication and configs, then
// commit each topic to the metadata log and create its partition logs.
#include <set>

#include "absl/strings/str_cat.h"
#include "broker/broker.h"
#include "broker/handlers/handlers.h"
#include "coordinator/topic_rules.h"
#include "protocol/messages/create_topics_request.h"
#include "protocol/messages/create_topics_response.h"

namespace gregor::broker {
namespace {

using protocol::ErrorCode;
using protocol::msg::CreateTopicsRequest;
using protocol::msg::CreateTopicsResponse;

// More partitions than this in one topic is almost certainly a mistake, and each costs
// files and descriptors.
constexpr int32_t kMaxPartitionsPerTopic = 10000;
constexpr int8_t kDynamicTopicConfig = 1;  // DescribeConfigsResponse.ConfigSource

struct Failure {
  ErrorCode code;
  std::string message;
};

std::optional<Failure> validate(const CreateTopicsRequest::CreatableTopic& topic, Broker& broker,
                                int32_t* partitions, std::map<std::string, std::string>* configs) {
  if (absl::Status s = coordinator::validate_topic_name(topic.name); !s.ok()) {
    return Failure{ErrorCode::kInvalidTopicException, std::string(s.message())};
  }
  if (!topic.assignments.empty()) {
    if (topic.num_partitions != -1 || topic.replication_factor != -1) {
      return Failure{ErrorCode::kInvalidRequest,
                     "Both numPartitions or replicationFactor and replicasAssignments were set. "
                     "Both cannot be used at the same time."};
    }
    for (size_t i = 0; i < topic.assignments.size(); ++i) {
      const auto& a = topic.assignments[i];
      if (a.partition_index != static_cast<int32_t>(i) || a.broker_ids.size() != 1 ||
          a.broker_ids[0] != broker.config().node_id) {
        return Failure{ErrorCode::kInvalidReplicaAssignment,
                       absl::StrCat("Replica assignment must name partitions 0..n-1, each on "
                                    "broker ",
                                    broker.config().node_id, " only")};
      }
    }
    *partitions = static_cast<int32_t>(topic.assignments.size());
  } else {
    *partitions =
        topic.num_partitions == -1 ? broker.config().num_partitions : topic.num_partitions;
    int16_t rf = topic.replication_factor == -1 ? broker.config().default_replication_factor
                                                : topic.replication_factor;
    if (*partitions <= 0) {
      return Failure{ErrorCode::kInvalidPartitions, "Number of partitions must be larger than 0."};
    }
    if (rf <= 0) {
      return Failure{ErrorCode::kInvalidReplicationFactor,
                     "Replication factor must be larger than 0."};
    }
    if (rf > 1) {
      return Failure{
          ErrorCode::kInvalidReplicationFactor,
          absl::StrCat("Replication factor: ", rf, " larger than available brokers: 1.")};
    }
  }
  if (*partitions > kMaxPartitionsPerTopic) {
    return Failure{
        ErrorCode::kInvalidPartitions,
        absl::StrCat("Number of partitions must be at most ", kMaxPartitionsPerTopic, ".")};
  }
  for (const auto& c : topic.configs) {
    if (!c.value) continue;  // a null value means "use the default"
    if (absl::Status s = coordinator::validate_topic_config(c.name, *c.value); !s.ok()) {
      return Failure{ErrorCode::kInvalidConfig, std::string(s.message())};
    }
    (*configs)[c.name] = *c.value;
  }
  if (broker.metadata().topic(topic.name)) {
    return Failure{ErrorCode::kTopicAlreadyExists,
                   absl::StrCat("Topic '", topic.name, "' already exists.")};
  }
  return std::nullopt;
}

}  // namespace

asio::awaitable<Response> handle_create_topics(RequestContext& ctx) {
  CreateTopicsRequest req;
  req.decode(ctx.body, ctx.version());
  if (!ctx.body.ok()) co_return Response::close_connection();
  Broker& broker = ctx.broker;

  std::map<std::string, int> seen;
  for (const auto& topic : req.topics) ++seen[topic.name];

  CreateTopicsResponse resp;
  for (const auto& topic : req.topics) {
    auto& out = resp.topics.emplace_back();
    out.name = topic.name;
    auto fail = [&](ErrorCode code, std::string message) {
      out.error_code = protocol::code(code);
      out.error_message = std::move(message);
      out.configs.reset();
    };
    if (seen[topic.name] > 1) {
      fail(ErrorCode::kInvalidRequest,
           "Create topics request from client contains a duplicate topic");
      continue;
    }
    int32_t partitions = 0;
    std::map<std::string, std::string> configs;
    if (std::optional<Failure> f = validate(topic, broker, &partitions, &configs)) {
      fail(f->code, f->message);
      continue;
    }
    out.num_partitions = partitions;
    out.replication_factor = 1;
    out.configs.emplace();
    for (const auto& [name, value] : configs) {
      auto& c = out.configs->emplace_back();
      c.name = name;
      c.value = value;
      c.config_source = kDynamicTopicConfig;
    }
    if (req.validate_only) {
      out.error_code = protocol::code(ErrorCode::kNone);
      continue;
    }
    absl::StatusOr<coordinator::TopicInfo> created =
        broker.create_topic(topic.name, partitions, configs);
    if (absl::IsAlreadyExists(created.status())) {
      fail(ErrorCode::kTopicAlreadyExists, std::string(created.status().message()));
    } else if (!created.ok()) {
      fail(ErrorCode::kKafkaStorageError, std::string(created.status().message()));
    } else {
      out.error_code = protocol::code(ErrorCode::kNone);
      out.topic_id = created->topic_id;
    }
  }
  co_return encode_response(resp, ctx.version());
}

}  // namespace gregor::broker

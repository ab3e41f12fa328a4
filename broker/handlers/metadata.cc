// Metadata (key 3): brokers, controller and topic partitions; creates missing topics when
// auto.create.topics.enable and the request allow it.
#include "broker/broker.h"
#include "broker/error_mapping.h"
#include "broker/handlers/handlers.h"
#include "protocol/messages/metadata_request.h"
#include "protocol/messages/metadata_response.h"

namespace gregor::broker {
namespace {

using protocol::ErrorCode;
using protocol::msg::MetadataRequest;
using protocol::msg::MetadataResponse;

void describe(const coordinator::TopicInfo& t, MetadataResponse::MetadataResponseTopic& out) {
  out.error_code = protocol::code(ErrorCode::kNone);
  out.name = t.name;
  out.topic_id = t.topic_id;
  out.is_internal = t.internal;
  for (const coordinator::PartitionInfo& p : t.partitions) {
    auto& part = out.partitions.emplace_back();
    part.error_code = protocol::code(ErrorCode::kNone);
    part.partition_index = p.partition_id;
    part.leader_id = p.leader;
    part.leader_epoch = p.leader_epoch;
    part.replica_nodes = p.replicas;
    part.isr_nodes = p.isr;
  }
}

}  // namespace

asio::awaitable<Response> handle_metadata(RequestContext& ctx) {
  MetadataRequest req;
  req.decode(ctx.body, ctx.version());
  if (!ctx.body.ok()) co_return Response::close_connection();
  Broker& broker = ctx.broker;

  MetadataResponse resp;
  Listener self = broker.advertised_listener();
  auto& b = resp.brokers.emplace_back();
  b.node_id = broker.config().node_id;
  b.host = self.host;
  b.port = self.port;
  resp.cluster_id = broker.config().cluster_id;
  resp.controller_id = broker.config().node_id;

  // v0: an empty list means every topic; v1+: null means every topic, empty means none.
  bool all_topics = !req.topics.has_value() || (ctx.version() == 0 && req.topics->empty());
  if (all_topics) {
    for (const coordinator::TopicInfo& t : broker.metadata().topics()) {
      describe(t, resp.topics.emplace_back());
    }
    co_return encode_response(resp, ctx.version());
  }

  // Before v4 a client could not opt out of auto-creation; the broker setting still rules.
  bool may_create = ctx.version() < 4 || req.allow_auto_topic_creation;
  for (const auto& wanted : *req.topics) {
    auto& out = resp.topics.emplace_back();
    if (!wanted.name.has_value()) {
      // v10+ lookup by topic id.
      std::optional<coordinator::TopicInfo> t = broker.metadata().topic_by_id(wanted.topic_id);
      if (t) {
        describe(*t, out);
      } else {
        out.error_code = protocol::code(ErrorCode::kUnknownTopicId);
        out.topic_id = wanted.topic_id;
      }
      continue;
    }
    const std::string& name = *wanted.name;
    out.name = name;
    absl::StatusOr<coordinator::TopicInfo> t;
    if (may_create) {
      t = broker.get_or_auto_create_topic(name);
    } else if (std::optional<coordinator::TopicInfo> found = broker.metadata().topic(name)) {
      t = *found;
    } else {
      t = absl::NotFoundError(name);
    }
    if (t.ok()) {
      describe(*t, out);
    } else if (absl::IsInvalidArgument(t.status())) {
      out.error_code = protocol::code(ErrorCode::kInvalidTopicException);
    } else if (absl::IsNotFound(t.status())) {
      out.error_code = protocol::code(ErrorCode::kUnknownTopicOrPartition);
    } else {
      // The topic could not be created right now; clients retry on this error.
      out.error_code = protocol::code(ErrorCode::kLeaderNotAvailable);
    }
  }
  co_return encode_response(resp, ctx.version());
}

}  // namespace gregor::broker

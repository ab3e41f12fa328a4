// OffsetCommit (key 8, v2-8): commits go to the group coordinator, which answers once they
// are durable in __consumer_offsets. Partitions of topics that do not exist are refused with
// UNKNOWN_TOPIC_OR_PARTITION, as Kafka does.
#include "broker/async_event.h"
#include "broker/broker.h"
#include "broker/handlers/commit_partitions.h"
#include "broker/handlers/handlers.h"
#include "coordinator/group_coordinator.h"
#include "protocol/messages/offset_commit_request.h"
#include "protocol/messages/offset_commit_response.h"

namespace gregor::broker {

using protocol::ErrorCode;
using protocol::msg::OffsetCommitRequest;
using protocol::msg::OffsetCommitResponse;

asio::awaitable<Response> handle_offset_commit(RequestContext& ctx) {
  OffsetCommitRequest req;
  req.decode(ctx.body, ctx.version());
  if (!ctx.body.ok()) co_return Response::close_connection();

  coordinator::OffsetCommitRequest commit;
  commit.group_id = req.group_id;
  commit.generation_id = req.generation_id;
  commit.member_id = req.member_id;
  commit.group_instance_id = req.group_instance_id;
  commit.retention_time_ms = req.retention_time_ms;
  CommitPartitions partitions = split_commit_partitions(ctx.broker, req.topics);
  commit.partitions = std::move(partitions.known);
  if (!commit.partitions.empty()) {
    coordinator::GroupCoordinator& groups = ctx.broker.groups();
    partitions.merge(co_await await_callback<std::vector<coordinator::TopicPartitionError>>(
        ctx.executor,
        [&groups, &commit](auto done) { groups.commit_offsets(std::move(commit), done); }));
  }

  OffsetCommitResponse resp;
  fill_commit_response(req.topics, partitions, resp.topics);
  co_return encode_response(resp, ctx.version());
}

}  // namespace gregor::broker

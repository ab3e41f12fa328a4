// OffsetDelete (key 47, v0): removes a group's committed offsets for partitions it no
// longer consumes.
#include "broker/async_event.h"
#include "broker/broker.h"
#include "broker/handlers/handlers.h"
#include "coordinator/group_coordinator.h"
#include "protocol/messages/offset_delete_request.h"
#include "protocol/messages/offset_delete_response.h"

namespace gregor::broker {

asio::awaitable<Response> handle_offset_delete(RequestContext& ctx) {
  protocol::msg::OffsetDeleteRequest req;
  req.decode(ctx.body, ctx.version());
  if (!ctx.body.ok()) co_return Response::close_connection();

  std::vector<coordinator::TopicPartition> partitions;
  for (const auto& t : req.topics) {
    for (const auto& p : t.partitions) partitions.push_back({t.name, p.partition_index});
  }
  coordinator::GroupCoordinator& groups = ctx.broker.groups();
  coordinator::OffsetDeleteResult result = co_await await_callback<coordinator::OffsetDeleteResult>(
      ctx.executor, [&groups, &req, &partitions](auto done) {
        groups.delete_offsets(req.group_id, partitions, done);
      });

  protocol::msg::OffsetDeleteResponse resp;
  resp.error_code = protocol::code(result.error);
  if (result.error == protocol::ErrorCode::kNone) {
    for (const coordinator::TopicPartitionError& p : result.partitions) {
      if (resp.topics.empty() || resp.topics.back().name != p.topic) {
        resp.topics.emplace_back().name = p.topic;
      }
      auto& out = resp.topics.back().partitions.emplace_back();
      out.partition_index = p.partition;
      out.error_code = protocol::code(p.error);
    }
  }
  co_return encode_response(resp, ctx.version());
}

}  // namespace gregor::broker

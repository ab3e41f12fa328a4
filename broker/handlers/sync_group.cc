// SyncGroup (key 14, v0-5): the leader hands in the assignment; every member gets its share
// once it is persisted.
#include "broker/async_event.h"
#include "broker/broker.h"
#include "broker/handlers/handlers.h"
#include "coordinator/group_coordinator.h"
#include "protocol/messages/sync_group_request.h"
#include "protocol/messages/sync_group_response.h"

namespace gregor::broker {

using protocol::msg::SyncGroupRequest;
using protocol::msg::SyncGroupResponse;

asio::awaitable<Response> handle_sync_group(RequestContext& ctx) {
  SyncGroupRequest req;
  req.decode(ctx.body, ctx.version());
  if (!ctx.body.ok()) co_return Response::close_connection();

  coordinator::SyncGroupRequest sync;
  sync.group_id = std::move(req.group_id);
  sync.generation_id = req.generation_id;
  sync.member_id = std::move(req.member_id);
  sync.group_instance_id = std::move(req.group_instance_id);
  sync.protocol_type = std::move(req.protocol_type);
  sync.protocol_name = std::move(req.protocol_name);
  for (auto& a : req.assignments)
    sync.assignments.emplace_back(std::move(a.member_id), std::move(a.assignment));

  coordinator::GroupCoordinator& groups = ctx.broker.groups();
  coordinator::SyncGroupResult result = co_await await_callback<coordinator::SyncGroupResult>(
      ctx.executor, [&groups, &sync](auto done) { groups.sync_group(std::move(sync), done); });

  SyncGroupResponse resp;
  resp.error_code = protocol::code(result.error);
  resp.protocol_type = result.protocol_type;
  resp.protocol_name = result.protocol_name;
  resp.assignment = std::move(result.assignment);
  co_return encode_response(resp, ctx.version());
}

}  // namespace gregor::broker

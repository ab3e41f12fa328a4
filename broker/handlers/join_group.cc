// JoinGroup (key 11, v0-9): hands the request to the group coordinator and answers when the
// rebalance completes (which can take up to the rebalance timeout).
#include "broker/async_event.h"
#include "broker/broker.h"
#include "broker/handlers/handlers.h"
#include "coordinator/group_coordinator.h"
#include "protocol/messages/join_group_request.h"
#include "protocol/messages/join_group_response.h"

namespace gregor::broker {

using protocol::msg::JoinGroupRequest;
using protocol::msg::JoinGroupResponse;

asio::awaitable<Response> handle_join_group(RequestContext& ctx) {
  JoinGroupRequest req;
  req.decode(ctx.body, ctx.version());
  if (!ctx.body.ok()) co_return Response::close_connection();

  coordinator::JoinGroupRequest join;
  join.group_id = std::move(req.group_id);
  join.member_id = std::move(req.member_id);
  join.group_instance_id = std::move(req.group_instance_id);
  join.client_id = ctx.header.client_id.value_or("");
  join.client_host = client_host_of(ctx);
  join.session_timeout_ms = req.session_timeout_ms;
  join.rebalance_timeout_ms = req.rebalance_timeout_ms;
  join.protocol_type = std::move(req.protocol_type);
  for (auto& p : req.protocols) {
    join.protocols.push_back(coordinator::Protocol{std::move(p.name), std::move(p.metadata)});
  }
  join.require_known_member_id = ctx.version() >= 4;   // KIP-394
  join.supports_skip_assignment = ctx.version() >= 9;  // KIP-814

  coordinator::GroupCoordinator& groups = ctx.broker.groups();
  coordinator::JoinGroupResult result = co_await await_callback<coordinator::JoinGroupResult>(
      ctx.executor, [&groups, &join](auto done) { groups.join_group(std::move(join), done); });

  JoinGroupResponse resp;
  resp.error_code = protocol::code(result.error);
  resp.generation_id = result.generation_id;
  resp.protocol_type = result.protocol_type;
  resp.protocol_name = result.protocol_name;
  if (ctx.version() < 7 && !resp.protocol_name) resp.protocol_name = "";
  resp.leader = result.leader_id;
  resp.skip_assignment = result.skip_assignment;
  resp.member_id = result.member_id;
  for (auto& m : result.members) {
    auto& out = resp.members.emplace_back();
    out.member_id = std::move(m.member_id);
    out.group_instance_id = std::move(m.group_instance_id);
    out.metadata = std::move(m.metadata);
  }
  co_return encode_response(resp, ctx.version());
}

}  // namespace gregor::broker

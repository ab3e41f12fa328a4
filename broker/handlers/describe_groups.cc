// DescribeGroups (key 15, v0-5): state, protocol and members of each group.
#include "broker/broker.h"
#include "broker/handlers/handlers.h"
#include "coordinator/group_coordinator.h"
#include "protocol/messages/describe_groups_request.h"
#include "protocol/messages/describe_groups_response.h"

namespace gregor::broker {

asio::awaitable<Response> handle_describe_groups(RequestContext& ctx) {
  protocol::msg::DescribeGroupsRequest req;
  req.decode(ctx.body, ctx.version());
  if (!ctx.body.ok()) co_return Response::close_connection();

  protocol::msg::DescribeGroupsResponse resp;
  for (const std::string& id : req.groups) {
    coordinator::GroupDescription d = ctx.broker.groups().describe_group(id);
    auto& out = resp.groups.emplace_back();
    out.error_code = protocol::code(d.error);
    out.group_id = id;
    out.group_state = std::move(d.state);
    out.protocol_type = std::move(d.protocol_type);
    out.protocol_data = std::move(d.protocol);
    for (coordinator::MemberDescription& m : d.members) {
      auto& mo = out.members.emplace_back();
      mo.member_id = std::move(m.member_id);
      mo.group_instance_id = std::move(m.group_instance_id);
      mo.client_id = std::move(m.client_id);
      mo.client_host = std::move(m.client_host);
      mo.member_metadata = std::move(m.metadata);
      mo.member_assignment = std::move(m.assignment);
    }
  }
  co_return encode_response(resp, ctx.version());
}

}  // namespace gregor::broker

// ListGroups (key 16, v0-4): every group, optionally filtered by state (v4, KIP-518).
#include "broker/broker.h"
#include "broker/handlers/handlers.h"
#include "coordinator/group_coordinator.h"
#include "protocol/messages/list_groups_request.h"
#include "protocol/messages/list_groups_response.h"

namespace gregor::broker {

asio::awaitable<Response> handle_list_groups(RequestContext& ctx) {
  protocol::msg::ListGroupsRequest req;
  req.decode(ctx.body, ctx.version());
  if (!ctx.body.ok()) co_return Response::close_connection();

  protocol::msg::ListGroupsResponse resp;
  for (coordinator::GroupListing& g : ctx.broker.groups().list_groups(req.states_filter)) {
    auto& out = resp.groups.emplace_back();
    out.group_id = std::move(g.group_id);
    out.protocol_type = std::move(g.protocol_type);
    out.group_state = std::move(g.state);
  }
  co_return encode_response(resp, ctx.version());
}

}  // namespace gregor::broker

// DeleteGroups (key 42, v0-2): removes empty groups and their offsets.
#include "broker/async_event.h"
#include "broker/broker.h"
#include "broker/handlers/handlers.h"
#include "coordinator/group_coordinator.h"
#include "protocol/messages/delete_groups_request.h"
#include "protocol/messages/delete_groups_response.h"

namespace gregor::broker {

using Results = std::vector<std::pair<std::string, protocol::ErrorCode>>;

asio::awaitable<Response> handle_delete_groups(RequestContext& ctx) {
  protocol::msg::DeleteGroupsRequest req;
  req.decode(ctx.body, ctx.version());
  if (!ctx.body.ok()) co_return Response::close_connection();

  coordinator::GroupCoordinator& groups = ctx.broker.groups();
  Results results = co_await await_callback<Results>(
      ctx.executor, [&groups, &req](auto done) { groups.delete_groups(req.groups_names, done); });

  protocol::msg::DeleteGroupsResponse resp;
  for (auto& [group, error] : results) {
    auto& out = resp.results.emplace_back();
    out.group_id = group;
    out.error_code = protocol::code(error);
  }
  co_return encode_response(resp, ctx.version());
}

}  // namespace gregor::broker

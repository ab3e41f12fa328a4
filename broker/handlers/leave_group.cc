// LeaveGroup (key 13, v0-5): one member (v0-2) or a batch of members (v3+, KIP-345).
#include "broker/broker.h"
#include "broker/handlers/handlers.h"
#include "coordinator/group_coordinator.h"
#include "protocol/messages/leave_group_request.h"
#include "protocol/messages/leave_group_response.h"

namespace gregor::broker {

asio::awaitable<Response> handle_leave_group(RequestContext& ctx) {
  protocol::msg::LeaveGroupRequest req;
  req.decode(ctx.body, ctx.version());
  if (!ctx.body.ok()) co_return Response::close_connection();

  std::vector<coordinator::LeavingMember> leaving;
  if (ctx.version() < 3) {
    leaving.push_back(coordinator::LeavingMember{req.member_id, std::nullopt});
  } else {
    for (const auto& m : req.members) {
      leaving.push_back(coordinator::LeavingMember{m.member_id, m.group_instance_id});
    }
  }
  coordinator::LeaveGroupResult result = ctx.broker.groups().leave_group(req.group_id, leaving);

  protocol::msg::LeaveGroupResponse resp;
  resp.error_code = protocol::code(result.error);
  if (ctx.version() < 3 && result.error == protocol::ErrorCode::kNone &&
      !result.member_errors.empty()) {
    // Before v3 the single member's own error is the answer's error.
    resp.error_code = protocol::code(result.member_errors.front());
  }
  if (ctx.version() >= 3 && result.error == protocol::ErrorCode::kNone) {
    for (size_t i = 0; i < leaving.size() && i < result.member_errors.size(); ++i) {
      auto& out = resp.members.emplace_back();
      out.member_id = leaving[i].member_id;
      out.group_instance_id = leaving[i].group_instance_id;
      out.error_code = protocol::code(result.member_errors[i]);
    }
  }
  co_return encode_response(resp, ctx.version());
}

}  // namespace gregor::broker

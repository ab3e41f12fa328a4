// Heartbeat (key 12, v0-4): keeps a member alive and tells it when to rejoin.
#include "broker/broker.h"
#include "broker/handlers/handlers.h"
#include "coordinator/group_coordinator.h"
#include "protocol/messages/heartbeat_request.h"
#include "protocol/messages/heartbeat_response.h"

namespace gregor::broker {

asio::awaitable<Response> handle_heartbeat(RequestContext& ctx) {
  protocol::msg::HeartbeatRequest req;
  req.decode(ctx.body, ctx.version());
  if (!ctx.body.ok()) co_return Response::close_connection();

  coordinator::HeartbeatRequest hb;
  hb.group_id = std::move(req.group_id);
  hb.generation_id = req.generation_id;
  hb.member_id = std::move(req.member_id);
  hb.group_instance_id = std::move(req.group_instance_id);

  protocol::msg::HeartbeatResponse resp;
  resp.error_code = protocol::code(ctx.broker.groups().heartbeat(hb));
  co_return encode_response(resp, ctx.version());
}

}  // namespace gregor::broker

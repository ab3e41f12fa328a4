// FindCoordinator (key 10, v0-4): on a single node this broker is every coordinator.
#include "broker/broker.h"
#include "broker/handlers/handlers.h"
#include "protocol/messages/find_coordinator_request.h"
#include "protocol/messages/find_coordinator_response.h"

namespace gregor::broker {
namespace {

using protocol::ErrorCode;
using protocol::msg::FindCoordinatorRequest;
using protocol::msg::FindCoordinatorResponse;

constexpr int8_t kGroupKey = 0;
constexpr int8_t kTransactionKey = 1;

}  // namespace

asio::awaitable<Response> handle_find_coordinator(RequestContext& ctx) {
  FindCoordinatorRequest req;
  req.decode(ctx.body, ctx.version());
  if (!ctx.body.ok()) co_return Response::close_connection();

  Listener self = ctx.broker.advertised_listener();
  int32_t node = ctx.broker.config().node_id;
  bool valid_type = req.key_type == kGroupKey || req.key_type == kTransactionKey;
  ErrorCode error = valid_type ? ErrorCode::kNone : ErrorCode::kInvalidRequest;

  FindCoordinatorResponse resp;
  if (ctx.version() >= 4) {
    // KIP-699 batches keys; each gets its own answer.
    for (const std::string& key : req.coordinator_keys) {
      auto& c = resp.coordinators.emplace_back();
      c.key = key;
      c.error_code = protocol::code(error);
      c.node_id = valid_type ? node : -1;
      c.host = valid_type ? self.host : "";
      c.port = valid_type ? self.port : -1;
    }
  } else {
    resp.error_code = protocol::code(error);
    resp.node_id = valid_type ? node : -1;
    resp.host = valid_type ? self.host : "";
    resp.port = valid_type ? self.port : -1;
  }
  co_return encode_response(resp, ctx.version());
}

}  // namespace gregor::broker

// InitProducerId (key 22, v0-4): a producer id and epoch for an idempotent producer, or for a
// transactional id from the transaction coordinator (which fences older instances). Clients
// before v4 do not know PRODUCER_FENCED and get INVALID_PRODUCER_EPOCH instead, as from Kafka.
#include "broker/async_event.h"
#include "broker/broker.h"
#include "broker/handlers/handlers.h"
#include "coordinator/txn_coordinator.h"
#include "protocol/messages/init_producer_id_request.h"
#include "protocol/messages/init_producer_id_response.h"

namespace gregor::broker {

using protocol::ErrorCode;

asio::awaitable<Response> handle_init_producer_id(RequestContext& ctx) {
  protocol::msg::InitProducerIdRequest req;
  req.decode(ctx.body, ctx.version());
  if (!ctx.body.ok()) co_return Response::close_connection();

  if ((req.producer_id == -1) != (req.producer_epoch == -1)) {
    // v3+ (KIP-360) sends both the current id and epoch, or neither.
    protocol::msg::InitProducerIdResponse bad;
    bad.error_code = protocol::code(ErrorCode::kInvalidRequest);
    bad.producer_id = -1;
    bad.producer_epoch = -1;
    co_return encode_response(bad, ctx.version());
  }
  coordinator::InitProducerIdRequest init;
  init.transactional_id = req.transactional_id;
  init.timeout_ms = req.transaction_timeout_ms;
  init.producer_id = req.producer_id;
  init.producer_epoch = req.producer_epoch;
  coordinator::TxnCoordinator& txns = ctx.broker.transactions();
  coordinator::InitProducerIdResult result =
      co_await await_callback<coordinator::InitProducerIdResult>(
          ctx.executor, [&txns, &init](auto done) { txns.init_producer_id(init, done); });

  protocol::msg::InitProducerIdResponse resp;
  ErrorCode error = result.error;
  if (error == ErrorCode::kProducerFenced && ctx.version() < 4) {
    error = ErrorCode::kInvalidProducerEpoch;
  }
  resp.error_code = protocol::code(error);
  resp.producer_id = error == ErrorCode::kNone ? result.producer_id : -1;
  resp.producer_epoch = error == ErrorCode::kNone ? result.producer_epoch : -1;
  co_return encode_response(resp, ctx.version());
}

}  // namespace gregor::broker

// EndTxn (key 26, v0-3): commit or abort. Answered once the decision is durable and the
// markers are in every partition of the transaction, so a read_committed consumer sees a
// committed transaction as soon as its producer hears about it. PRODUCER_FENCED becomes
// INVALID_PRODUCER_EPOCH before v2, as from Kafka.
#include "broker/async_event.h"
#include "broker/broker.h"
#include "broker/handlers/handlers.h"
#include "coordinator/txn_coordinator.h"
#include "protocol/messages/end_txn_request.h"
#include "protocol/messages/end_txn_response.h"

namespace gregor::broker {

using protocol::ErrorCode;

asio::awaitable<Response> handle_end_txn(RequestContext& ctx) {
  protocol::msg::EndTxnRequest req;
  req.decode(ctx.body, ctx.version());
  if (!ctx.body.ok()) co_return Response::close_connection();

  coordinator::TxnCoordinator& txns = ctx.broker.transactions();
  ErrorCode error = co_await await_callback<ErrorCode>(ctx.executor, [&](auto done) {
    txns.end_txn(req.transactional_id, req.producer_id, req.producer_epoch, req.committed, done);
  });
  if (error == ErrorCode::kProducerFenced && ctx.version() < 2) {
    error = ErrorCode::kInvalidProducerEpoch;
  }
  protocol::msg::EndTxnResponse resp;
  resp.error_code = protocol::code(error);
  co_return encode_response(resp, ctx.version());
}

}  // namespace gregor::broker

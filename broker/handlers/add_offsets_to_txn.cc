// AddOffsetsToTxn (key 25, v0-3): the producer will commit offsets of `group_id` in its
// transaction, so the group's __consumer_offsets partition joins the transaction and gets its
// marker. PRODUCER_FENCED becomes INVALID_PRODUCER_EPOCH before v2, as from Kafka.
#include "broker/async_event.h"
#include "broker/broker.h"
#include "broker/handlers/handlers.h"
#include "broker/offsets_topic.h"
#include "coordinator/group_coordinator.h"
#include "coordinator/txn_coordinator.h"
#include "protocol/messages/add_offsets_to_txn_request.h"
#include "protocol/messages/add_offsets_to_txn_response.h"

namespace gregor::broker {

using protocol::ErrorCode;

asio::awaitable<Response> handle_add_offsets_to_txn(RequestContext& ctx) {
  protocol::msg::AddOffsetsToTxnRequest req;
  req.decode(ctx.body, ctx.version());
  if (!ctx.body.ok()) co_return Response::close_connection();

  protocol::msg::AddOffsetsToTxnResponse resp;
  ErrorCode error;
  if (req.group_id.empty()) {
    error = ErrorCode::kInvalidGroupId;
  } else {
    const int32_t partition = ctx.broker.groups().partition_for(req.group_id);
    coordinator::TxnCoordinator& txns = ctx.broker.transactions();
    std::vector<coordinator::TopicPartition> tps = {{kOffsetsTopic, partition}};
    error = co_await await_callback<ErrorCode>(ctx.executor, [&](auto done) {
      txns.add_partitions(req.transactional_id, req.producer_id, req.producer_epoch, tps, done);
    });
    if (error == ErrorCode::kProducerFenced && ctx.version() < 2) {
      error = ErrorCode::kInvalidProducerEpoch;
    }
  }
  resp.error_code = protocol::code(error);
  co_return encode_response(resp, ctx.version());
}

}  // namespace gregor::broker

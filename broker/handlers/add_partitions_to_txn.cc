// AddPartitionsToTxn (key 24, v0-3): a transactional producer names the partitions it is about
// to write. Kafka checks every partition first: if any is unknown, that one answers
// UNKNOWN_TOPIC_OR_PARTITION and the rest OPERATION_NOT_ATTEMPTED, and nothing is added.
// Otherwise the coordinator's one answer goes to every partition (PRODUCER_FENCED becomes
// INVALID_PRODUCER_EPOCH before v2).
#include "broker/async_event.h"
#include "broker/broker.h"
#include "broker/handlers/handlers.h"
#include "broker/offsets_topic.h"
#include "broker/partition_manager.h"
#include "broker/txn_state_topic.h"
#include "coordinator/txn_coordinator.h"
#include "protocol/messages/add_partitions_to_txn_request.h"
#include "protocol/messages/add_partitions_to_txn_response.h"

namespace gregor::broker {

using protocol::ErrorCode;

asio::awaitable<Response> handle_add_partitions_to_txn(RequestContext& ctx) {
  protocol::msg::AddPartitionsToTxnRequest req;
  req.decode(ctx.body, ctx.version());
  if (!ctx.body.ok()) co_return Response::close_connection();

  std::vector<coordinator::TopicPartition> partitions;
  bool any_unknown = false;
  for (const auto& topic : req.topics) {
    for (int32_t p : topic.partitions) {
      partitions.push_back({topic.name, p});
      // Internal topics are written by the coordinators only (Kafka: INVALID_TOPIC... is
      // answered by the partition; here the topic is simply not a transaction target).
      if (!ctx.broker.partitions().get(topic.name, p) || topic.name == kTransactionStateTopic) {
        any_unknown = true;
      }
    }
  }

  ErrorCode shared = ErrorCode::kNone;
  if (!any_unknown) {
    coordinator::TxnCoordinator& txns = ctx.broker.transactions();
    shared = co_await await_callback<ErrorCode>(ctx.executor, [&](auto done) {
      txns.add_partitions(req.transactional_id, req.producer_id, req.producer_epoch, partitions,
                          done);
    });
    if (shared == ErrorCode::kProducerFenced && ctx.version() < 2) {
      shared = ErrorCode::kInvalidProducerEpoch;
    }
  }

  protocol::msg::AddPartitionsToTxnResponse resp;
  for (const auto& topic : req.topics) {
    auto& t = resp.results_by_topic.emplace_back();
    t.name = topic.name;
    for (int32_t p : topic.partitions) {
      auto& out = t.results_by_partition.emplace_back();
      out.partition_index = p;
      ErrorCode e = shared;
      if (any_unknown) {
        const bool unknown =
            !ctx.broker.partitions().get(topic.name, p) || topic.name == kTransactionStateTopic;
        e = unknown ? ErrorCode::kUnknownTopicOrPartition : ErrorCode::kOperationNotAttempted;
      }
      out.partition_error_code = protocol::code(e);
    }
  }
  co_return encode_response(resp, ctx.version());
}

}  // namespace gregor::broker

// DescribeTransactions (key 65, v0): the coordinator's state of each transactional id (state,
// producer id and epoch, timeout, start time, the partitions in the open transaction).
// Unknown ids answer TRANSACTIONAL_ID_NOT_FOUND, an empty id INVALID_REQUEST, as in Kafka.
#include "broker/broker.h"
#include "broker/handlers/handlers.h"
#include "coordinator/txn_coordinator.h"
#include "protocol/messages/describe_transactions_request.h"
#include "protocol/messages/describe_transactions_response.h"

namespace gregor::broker {

using protocol::ErrorCode;

asio::awaitable<Response> handle_describe_transactions(RequestContext& ctx) {
  protocol::msg::DescribeTransactionsRequest req;
  req.decode(ctx.body, ctx.version());
  if (!ctx.body.ok()) co_return Response::close_connection();

  protocol::msg::DescribeTransactionsResponse resp;
  for (const std::string& id : req.transactional_ids) {
    coordinator::TxnDescription d = ctx.broker.transactions().describe(id);
    auto& out = resp.transaction_states.emplace_back();
    out.transactional_id = id;
    out.error_code = protocol::code(d.error);
    if (d.error != ErrorCode::kNone) continue;
    const coordinator::TxnMetadata& md = d.metadata;
    out.transaction_state = std::string(coordinator::txn_state_name(md.state));
    out.transaction_timeout_ms = md.timeout_ms;
    out.transaction_start_time_ms = md.start_ms;
    out.producer_id = md.producer_id;
    out.producer_epoch = md.producer_epoch;
    // The set is ordered by topic, so each topic's partitions are adjacent.
    for (const coordinator::TopicPartition& tp : md.partitions) {
      if (out.topics.empty() || out.topics.back().topic != tp.topic) {
        out.topics.emplace_back().topic = tp.topic;
      }
      out.topics.back().partitions.push_back(tp.partition);
    }
  }
  co_return encode_response(resp, ctx.version());
}

}  // namespace gregor::broker

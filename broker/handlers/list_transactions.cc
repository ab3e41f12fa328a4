// ListTransactions (key 66, v0-1): the transactional ids this coordinator holds, filtered by
// state names and producer ids, and from v1 (KIP-994) by how long the transaction has run.
// State names Kafka does not know are echoed in unknown_state_filters; as in Kafka they match
// nothing, so a filter of only unknown names lists nothing.
#include "broker/broker.h"
#include "broker/handlers/handlers.h"
#include "coordinator/txn_coordinator.h"
#include "protocol/messages/list_transactions_request.h"
#include "protocol/messages/list_transactions_response.h"

namespace gregor::broker {

asio::awaitable<Response> handle_list_transactions(RequestContext& ctx) {
  protocol::msg::ListTransactionsRequest req;
  req.decode(ctx.body, ctx.version());
  if (!ctx.body.ok()) co_return Response::close_connection();

  protocol::msg::ListTransactionsResponse resp;
  std::vector<coordinator::TxnState> states;
  for (const std::string& name : req.state_filters) {
    if (std::optional<coordinator::TxnState> s = coordinator::txn_state_from_name(name)) {
      states.push_back(*s);
    } else {
      resp.unknown_state_filters.push_back(name);
    }
  }
  const bool matches_nothing = !req.state_filters.empty() && states.empty();
  if (!matches_nothing) {
    for (const coordinator::TxnListing& l : ctx.broker.transactions().list(
             states, req.producer_id_filters, ctx.version() >= 1 ? req.duration_filter : -1)) {
      auto& out = resp.transaction_states.emplace_back();
      out.transactional_id = l.transactional_id;
      out.producer_id = l.producer_id;
      out.transaction_state = std::string(coordinator::txn_state_name(l.state));
    }
  }
  co_return encode_response(resp, ctx.version());
}

}  // namespace gregor::broker

// WriteTxnMarkers (key 27, v0-1): append commit/abort markers for producers to partitions this
// broker leads. Kafka's transaction coordinator sends it to partition leaders; here the
// coordinator writes its markers directly, and this API serves `gregorctl txn abort`
// (kafka-transactions.sh abort) for a transaction the coordinator no longer knows. Each marker
// is answered once it is durable, as Kafka answers with acks=all.
#include "broker/async_event.h"
#include "broker/broker.h"
#include "broker/error_mapping.h"
#include "broker/handlers/handlers.h"
#include "protocol/messages/write_txn_markers_request.h"
#include "protocol/messages/write_txn_markers_response.h"

namespace gregor::broker {

asio::awaitable<Response> handle_write_txn_markers(RequestContext& ctx) {
  protocol::msg::WriteTxnMarkersRequest req;
  req.decode(ctx.body, ctx.version());
  if (!ctx.body.ok()) co_return Response::close_connection();

  protocol::msg::WriteTxnMarkersResponse resp;
  for (const auto& marker : req.markers) {
    auto& m = resp.markers.emplace_back();
    m.producer_id = marker.producer_id;
    for (const auto& topic : marker.topics) {
      auto& t = m.topics.emplace_back();
      t.name = topic.name;
      for (int32_t p : topic.partition_indexes) {
        auto& out = t.partitions.emplace_back();
        out.partition_index = p;
        absl::Status s = co_await await_callback<absl::Status>(ctx.executor, [&](auto done) {
          ctx.broker.write_txn_marker(topic.name, p, marker.producer_id, marker.producer_epoch,
                                      marker.transaction_result, marker.coordinator_epoch, done);
        });
        out.error_code = protocol::code(error_for(s));  // NotFound: UNKNOWN_TOPIC_OR_PARTITION
      }
    }
  }
  co_return encode_response(resp, ctx.version());
}

}  // namespace gregor::broker

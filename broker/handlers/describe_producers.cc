// DescribeProducers (key 61, v0): per partition, the producers whose state the log keeps (last
// sequence, epoch, the start offset of an open transaction), for kafka-transactions.sh and
// `gregorctl txn producers` to find hanging transactions.
#include "broker/broker.h"
#include "broker/handlers/handlers.h"
#include "broker/partition_manager.h"
#include "protocol/messages/describe_producers_request.h"
#include "protocol/messages/describe_producers_response.h"

namespace gregor::broker {

using protocol::ErrorCode;

asio::awaitable<Response> handle_describe_producers(RequestContext& ctx) {
  protocol::msg::DescribeProducersRequest req;
  req.decode(ctx.body, ctx.version());
  if (!ctx.body.ok()) co_return Response::close_connection();

  protocol::msg::DescribeProducersResponse resp;
  for (const auto& topic : req.topics) {
    auto& t = resp.topics.emplace_back();
    t.name = topic.name;
    for (int32_t p : topic.partition_indexes) {
      auto& out = t.partitions.emplace_back();
      out.partition_index = p;
      std::shared_ptr<Partition> partition = ctx.broker.partitions().get(topic.name, p);
      if (!partition) {
        out.error_code = protocol::code(ErrorCode::kUnknownTopicOrPartition);
        continue;
      }
      out.error_code = protocol::code(ErrorCode::kNone);
      for (const storage::ProducerInfo& info : partition->log().producers()) {
        auto& s = out.active_producers.emplace_back();
        s.producer_id = info.producer_id;
        s.producer_epoch = info.epoch;
        s.last_sequence = info.last_sequence;
        s.last_timestamp = info.last_timestamp;
        s.coordinator_epoch = info.coordinator_epoch;
        s.current_txn_start_offset = info.current_txn_start_offset;
      }
    }
  }
  co_return encode_response(resp, ctx.version());
}

}  // namespace gregor::broker

// ListOffsets (key 2, v1-8): earliest, latest, max-timestamp and by-timestamp lookups.
#include "broker/broker.h"
#include "broker/handlers/handlers.h"
#include "broker/partition_manager.h"
#include "protocol/messages/list_offsets_request.h"
#include "protocol/messages/list_offsets_response.h"

namespace gregor::broker {
namespace {

using protocol::ErrorCode;
using protocol::msg::ListOffsetsRequest;
using protocol::msg::ListOffsetsResponse;

constexpr int64_t kLatest = -1;
constexpr int64_t kEarliest = -2;
constexpr int64_t kMaxTimestamp = -3;   // v7+ (KIP-734)
constexpr int64_t kEarliestLocal = -4;  // v8+ (KIP-405); no tiered storage, so the log start

}  // namespace

asio::awaitable<Response> handle_list_offsets(RequestContext& ctx) {
  ListOffsetsRequest req;
  req.decode(ctx.body, ctx.version());
  if (!ctx.body.ok()) co_return Response::close_connection();

  ListOffsetsResponse resp;
  for (const auto& topic : req.topics) {
    auto& t = resp.topics.emplace_back();
    t.name = topic.name;
    for (const auto& p : topic.partitions) {
      auto& out = t.partitions.emplace_back();
      out.partition_index = p.partition_index;
      out.timestamp = -1;
      out.offset = -1;
      std::shared_ptr<Partition> partition =
          ctx.broker.partitions().get(topic.name, p.partition_index);
      if (!partition) {
        out.error_code = protocol::code(ErrorCode::kUnknownTopicOrPartition);
        continue;
      }
      storage::Log& log = partition->log();
      // read_committed (v2+) sees the log only up to its last stable offset.
      const int64_t fetchable =
          req.isolation_level == 1 ? log.last_stable_offset() : log.log_end_offset();
      out.error_code = protocol::code(ErrorCode::kNone);
      out.leader_epoch = 0;
      if (p.timestamp == kLatest) {
        out.offset = fetchable;
      } else if (p.timestamp == kEarliest ||
                 (p.timestamp == kEarliestLocal && ctx.version() >= 8)) {
        out.offset = log.log_start_offset();
      } else if (p.timestamp == kMaxTimestamp && ctx.version() >= 7) {
        auto [offset, ts] = log.max_timestamp_offset();
        if (offset < fetchable) {
          out.offset = offset;
          out.timestamp = ts;
        }
      } else if (p.timestamp < 0) {
        out.error_code = protocol::code(ErrorCode::kInvalidRequest);
      } else {
        auto [offset, ts] = log.offset_for_timestamp(p.timestamp);
        if (offset < fetchable) {
          out.offset = offset;
          out.timestamp = ts;
        }
      }
    }
  }
  co_return encode_response(resp, ctx.version());
}

}  // namespace gregor::broker

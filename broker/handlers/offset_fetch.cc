// OffsetFetch (key 9, v1-8): committed offsets of one group (v1-7) or several (v8, KIP-709).
#include "broker/broker.h"
#include "broker/handlers/handlers.h"
#include "coordinator/group_coordinator.h"
#include "protocol/messages/offset_fetch_request.h"
#include "protocol/messages/offset_fetch_response.h"

namespace gregor::broker {
namespace {

using protocol::msg::OffsetFetchRequest;
using protocol::msg::OffsetFetchResponse;

template <typename Topics>
std::optional<std::vector<coordinator::OffsetFetchTopic>> wanted(
    const std::optional<Topics>& topics) {
  if (!topics) return std::nullopt;
  std::vector<coordinator::OffsetFetchTopic> out;
  for (const auto& t : *topics)
    out.push_back(coordinator::OffsetFetchTopic{t.name, t.partition_indexes});
  return out;
}

// Groups the coordinator's flat partition list by topic into `topics` (v1-7 or v8 shapes).
template <typename TopicList>
void fill(const coordinator::OffsetFetchResult& result, TopicList& topics) {
  for (const coordinator::FetchedOffset& f : result.partitions) {
    if (topics.empty() || topics.back().name != f.topic) {
      topics.emplace_back().name = f.topic;
    }
    auto& p = topics.back().partitions.emplace_back();
    p.partition_index = f.partition;
    p.committed_offset = f.offset;
    p.committed_leader_epoch = f.leader_epoch;
    p.metadata = f.metadata;
    p.error_code = protocol::code(f.error);
  }
}

}  // namespace

asio::awaitable<Response> handle_offset_fetch(RequestContext& ctx) {
  OffsetFetchRequest req;
  req.decode(ctx.body, ctx.version());
  if (!ctx.body.ok()) co_return Response::close_connection();
  coordinator::GroupCoordinator& groups = ctx.broker.groups();

  OffsetFetchResponse resp;
  if (ctx.version() >= 8) {
    for (const auto& g : req.groups) {
      coordinator::OffsetFetchResult result =
          groups.fetch_offsets(g.group_id, wanted(g.topics), req.require_stable);
      auto& out = resp.groups.emplace_back();
      out.group_id = g.group_id;
      out.error_code = protocol::code(result.error);
      fill(result, out.topics);
    }
    co_return encode_response(resp, ctx.version());
  }
  coordinator::OffsetFetchResult result =
      groups.fetch_offsets(req.group_id, wanted(req.topics), req.require_stable);
  resp.error_code = protocol::code(result.error);
  fill(result, resp.topics);
  if (ctx.version() < 2 && result.error != protocol::ErrorCode::kNone) {
    // v0-1 have no top-level error: it goes on every partition.
    for (auto& t : resp.topics) {
      for (auto& p : t.partitions) p.error_code = protocol::code(result.error);
    }
  }
  co_return encode_response(resp, ctx.version());
}

}  // namespace gregor::broker

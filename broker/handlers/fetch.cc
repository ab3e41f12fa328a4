// Fetch (key 1, v4-12): read whole batches from each partition's log as file slices (sent with
// sendfile), parking the request until min_bytes are there or max_wait_ms passes.
// Sessionless: every answer carries session_id 0, which tells clients to send full requests.
// read_committed stops at the last stable offset and lists the aborted transactions in the
// returned range, so the client drops their records (and skips the control batches).
#include <chrono>

#include "broker/async_event.h"
#include "broker/broker.h"
#include "broker/error_mapping.h"
#include "broker/handlers/handlers.h"
#include "broker/partition_manager.h"
#include "protocol/messages/fetch_request.h"
#include "protocol/messages/fetch_response.h"

namespace gregor::broker {
namespace {

using protocol::ErrorCode;
using protocol::msg::FetchRequest;
using protocol::msg::FetchResponse;

constexpr int8_t kReadCommitted = 1;
// A client may ask for at most this long a wait; more would hold a connection slot for long.
constexpr int32_t kMaxWaitCapMs = 30000;

// One pass over every requested partition. Returns the bytes gathered.
int64_t read_all(Broker& broker, const FetchRequest& req, int16_t version, FetchResponse& resp) {
  resp.responses.clear();
  int64_t budget = req.max_bytes > 0 ? req.max_bytes : 0;
  int64_t total = 0;
  for (const auto& topic : req.topics) {
    auto& t = resp.responses.emplace_back();
    t.topic = topic.topic;
    for (const auto& p : topic.partitions) {
      auto& out = t.partitions.emplace_back();
      out.partition_index = p.partition;
      out.high_watermark = -1;
      out.last_stable_offset = -1;
      out.log_start_offset = -1;
      if (version >= 4 && req.isolation_level == kReadCommitted) out.aborted_transactions.emplace();
      out.records.bytes = std::string_view();  // empty, not null
      std::shared_ptr<Partition> partition = broker.partitions().get(topic.topic, p.partition);
      if (!partition) {
        out.error_code = protocol::code(ErrorCode::kUnknownTopicOrPartition);
        continue;
      }
      storage::Log& log = partition->log();
      if (p.partition_max_bytes < 0) {
        out.error_code = protocol::code(ErrorCode::kInvalidFetchSize);
        continue;
      }
      // KIP-74: the first batch of the response is returned even when larger than the limits,
      // so a consumer can always make progress.
      bool first = total == 0;
      int64_t limit = std::min<int64_t>(p.partition_max_bytes, budget - total);
      const bool committed = req.isolation_level == kReadCommitted;
      absl::StatusOr<storage::ReadInfo> read;
      if (limit > 0 || first) {
        read = log.read(p.fetch_offset, std::max<int64_t>(limit, 0), first, committed);
      } else {
        read = log.read(p.fetch_offset, 0, false, committed);
      }
      if (!read.ok()) {
        out.error_code = protocol::code(error_for(read.status()));
        out.high_watermark = log.log_end_offset();
        out.last_stable_offset = log.last_stable_offset();
        out.log_start_offset = log.log_start_offset();
        continue;
      }
      out.error_code = protocol::code(ErrorCode::kNone);
      out.high_watermark = read->high_watermark;
      out.last_stable_offset = read->last_stable_offset;
      out.log_start_offset = read->log_start_offset;
      if (out.aborted_transactions) {
        for (const storage::AbortedTxn& a : read->aborted) {
          out.aborted_transactions->push_back({a.producer_id, a.first_offset});
        }
      }
      out.records.slices = std::move(read->slices);
      total += read->bytes;
    }
  }
  return total;
}

}  // namespace

asio::awaitable<Response> handle_fetch(RequestContext& ctx) {
  FetchRequest req;
  req.decode(ctx.body, ctx.version());
  if (!ctx.body.ok()) co_return Response::close_connection();
  Broker& broker = ctx.broker;

  FetchResponse resp;
  resp.session_id = 0;
  if (ctx.version() >= 7) {
    // We never create sessions: an id other than 0 is unknown, and an incremental epoch on the
    // sessionless id is invalid (FetchSession.scala's rules).
    if (req.session_id != 0) {
      resp.error_code = protocol::code(ErrorCode::kFetchSessionIdNotFound);
      co_return encode_response(resp, ctx.version());
    }
    if (req.session_epoch > 0) {
      resp.error_code = protocol::code(ErrorCode::kInvalidFetchSessionEpoch);
      co_return encode_response(resp, ctx.version());
    }
  }

  auto deadline = std::chrono::steady_clock::now() +
                  std::chrono::milliseconds(std::clamp(req.max_wait_ms, 0, kMaxWaitCapMs));
  auto woken = std::make_shared<AsyncEvent>(ctx.executor);
  for (;;) {
    int64_t bytes = read_all(broker, req, ctx.version(), resp);
    bool any_error = false;
    for (const auto& t : resp.responses) {
      for (const auto& p : t.partitions) any_error |= p.error_code != 0;
    }
    auto now = std::chrono::steady_clock::now();
    if (bytes >= req.min_bytes || any_error || now >= deadline) {
      break;
    }
    // Park on every partition; an append to any of them re-runs the read.
    std::vector<std::pair<std::shared_ptr<Partition>, uint64_t>> parked;
    for (const auto& topic : req.topics) {
      for (const auto& p : topic.partitions) {
        if (auto partition = broker.partitions().get(topic.topic, p.partition)) {
          uint64_t id = partition->add_waiter([woken] { woken->notify_from_any_thread(); });
          parked.emplace_back(std::move(partition), id);
        }
      }
    }
    // An append between the read above and parking would be missed: read once more first.
    bool ready = read_all(broker, req, ctx.version(), resp) >= std::max(req.min_bytes, 1);
    if (!ready) co_await woken->wait(deadline - now);
    for (auto& [partition, id] : parked) partition->remove_waiter(id);
    if (ready) break;
  }
  co_return encode_response(resp, ctx.version());
}

}  // namespace gregor::broker

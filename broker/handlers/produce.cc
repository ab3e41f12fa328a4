// Produce (key 0): validate and append each partition's batches; answer after the acks the
// client asked for (acks=all waits for the grouped fdatasync unless gregor.acks.all.fsync=false).
// Idempotent and transactional batches are checked against the partition's producer state by
// the log: a retried batch answers with its original offsets, sequence gaps and stale epochs
// with Kafka's errors.
#include <atomic>
#include <chrono>
#include <memory>

#include "broker/async_event.h"
#include "broker/broker.h"
#include "broker/error_mapping.h"
#include "broker/handlers/handlers.h"
#include "broker/offsets_topic.h"
#include "broker/partition_manager.h"
#include "broker/txn_state_topic.h"
#include "protocol/messages/produce_request.h"
#include "protocol/messages/produce_response.h"
#include "spdlog/spdlog.h"
#include "storage/flusher.h"
#include "storage/log_manager.h"

namespace gregor::broker {
namespace {

using protocol::ErrorCode;
using protocol::msg::ProduceRequest;
using protocol::msg::ProduceResponse;
using PartitionResponse = ProduceResponse::PartitionProduceResponse;

// Versions 0-2 carry message sets v0/v1, which Gregor does not store (PROTOCOL-NOTES 4.2).
constexpr int16_t kFirstSupportedVersion = 3;

// Outstanding fsync waits of one request; the last one to finish wakes the handler.
struct SyncWait {
  explicit SyncWait(const asio::any_io_executor& ex) : done(std::make_shared<AsyncEvent>(ex)) {}
  std::shared_ptr<AsyncEvent> done;
  std::mutex mu;  // guards remaining and the error codes written through `errors`
  int remaining = 0;
};

// A failing or full disk fails every retry of every producer: at most one line a second says
// so at error level without flooding the log; other refusals are the client's business.
void log_storage_error(std::string_view what, const absl::Status& s) {
  static std::atomic<int64_t> last_ms{-1000};
  const int64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::steady_clock::now().time_since_epoch())
                          .count();
  int64_t last = last_ms.load(std::memory_order_relaxed);
  if (now - last < 1000 || !last_ms.compare_exchange_strong(last, now)) return;
  spdlog::error("{} failed: {} (storage errors are logged at most once a second)", what,
                std::string(s.message()));
}

ProduceResponse error_response(const ProduceRequest& req, ErrorCode error) {
  ProduceResponse resp;
  for (const auto& topic : req.topic_data) {
    auto& t = resp.responses.emplace_back();
    t.name = topic.name;
    for (const auto& p : topic.partition_data) {
      auto& out = t.partition_responses.emplace_back();
      out.index = p.index;
      out.error_code = protocol::code(error);
      out.base_offset = -1;
    }
  }
  return resp;
}

}  // namespace

asio::awaitable<Response> handle_produce(RequestContext& ctx) {
  ProduceRequest req;
  req.decode(ctx.body, ctx.version());
  if (!ctx.body.ok()) co_return Response::close_connection();
  if (ctx.version() < kFirstSupportedVersion) {
    co_return encode_response(error_response(req, ErrorCode::kUnsupportedVersion), ctx.version());
  }
  if (req.acks != 0 && req.acks != 1 && req.acks != -1) {
    co_return encode_response(error_response(req, ErrorCode::kInvalidRequiredAcks), ctx.version());
  }
  Broker& broker = ctx.broker;
  bool wait_for_sync = req.acks == -1 && broker.config().acks_all_fsync;

  ProduceResponse resp;
  std::shared_ptr<SyncWait> sync;
  if (wait_for_sync) sync = std::make_shared<SyncWait>(ctx.executor);
  // Responses the flusher fills in; kept separately so the flusher thread never touches `resp`.
  std::vector<std::pair<PartitionResponse*, std::shared_ptr<absl::Status>>> sync_results;
  for (const auto& topic : req.topic_data) {
    auto& t = resp.responses.emplace_back();
    t.name = topic.name;
    t.partition_responses.reserve(topic.partition_data.size());
    for (const auto& p : topic.partition_data) {
      auto& out = t.partition_responses.emplace_back();
      out.index = p.index;
      out.base_offset = -1;
      if (topic.name == kOffsetsTopic || topic.name == kTransactionStateTopic) {
        // Only the group coordinator writes there (Kafka: "Cannot append to internal topic").
        out.error_code = protocol::code(ErrorCode::kInvalidTopicException);
        out.error_message = "Cannot append to internal topic " + topic.name;
        continue;
      }
      std::shared_ptr<Partition> partition = broker.partitions().get(topic.name, p.index);
      if (!partition) {
        out.error_code = protocol::code(ErrorCode::kUnknownTopicOrPartition);
        continue;
      }
      if (p.records.is_null() || !p.records.bytes || p.records.bytes->empty()) {
        out.error_code = protocol::code(ErrorCode::kInvalidRecord);
        out.error_message = "empty or null record set";
        continue;
      }
      // The log assigns offsets in place, in the request frame itself.
      absl::StatusOr<storage::AppendInfo> info =
          partition->log().append(ctx.writable(*p.records.bytes), storage::AppendOrigin::kClient,
                                  broker.txn_verifier(req.transactional_id, topic.name, p.index));
      if (!info.ok()) {
        ErrorCode error = error_for(info.status());
        // Kafka's answer when verification meets a transaction that is ending: retriable for
        // every client, unlike CONCURRENT_TRANSACTIONS in a produce response.
        if (error == ErrorCode::kConcurrentTransactions) error = ErrorCode::kNotEnoughReplicas;
        out.error_code = protocol::code(error);
        out.error_message = std::string(info.status().message());
        if (error == ErrorCode::kKafkaStorageError) {
          log_storage_error("produce to " + topic.name + "-" + std::to_string(p.index),
                            info.status());
        } else {
          spdlog::debug("produce to {}-{} failed: {}", topic.name, p.index,
                        std::string(info.status().message()));
        }
        continue;
      }
      out.error_code = protocol::code(ErrorCode::kNone);
      out.base_offset = info->base_offset;
      out.log_append_time_ms = info->log_append_time;
      out.log_start_offset = info->log_start_offset;
      if (!info->duplicate) partition->notify_appended();
      if (wait_for_sync) {
        auto result = std::make_shared<absl::Status>();
        sync_results.emplace_back(&out, result);
        {
          std::lock_guard lock(sync->mu);
          ++sync->remaining;
        }
        broker.logs().flusher().request(partition->log_ptr(), info->last_offset,
                                        [sync, result](absl::Status s) {
                                          std::lock_guard lock(sync->mu);
                                          *result = std::move(s);
                                          if (--sync->remaining == 0)
                                            sync->done->notify_from_any_thread();
                                        });
      }
    }
  }
  if (!sync_results.empty()) {
    for (;;) {
      {
        std::lock_guard lock(sync->mu);
        if (sync->remaining == 0) break;
      }
      co_await sync->done->wait();
    }
    for (auto& [out, result] : sync_results) {
      if (!result->ok()) {
        // Written but not durable: the client must not count it as acknowledged.
        log_storage_error("acks=all sync", *result);
        out->error_code = protocol::code(ErrorCode::kKafkaStorageError);
        out->base_offset = -1;
      }
    }
  }
  if (req.acks == 0) {
    Response none;
    none.send = false;
    co_return none;
  }
  co_return encode_response(resp, ctx.version());
}

}  // namespace gregor::broker

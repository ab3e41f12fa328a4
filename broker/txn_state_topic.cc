// TxnStateTopic and TxnMarkers over the broker's partition logs.
#include "broker/txn_state_topic.h"

#include <memory>
#include <mutex>

#include "broker/broker.h"
#include "broker/partition_manager.h"
#include "coordinator/txn_coordinator.h"
#include "fmt/format.h"
#include "protocol/record_batch.h"
#include "spdlog/spdlog.h"
#include "storage/record_reader.h"

namespace gregor::broker {
namespace {

// Bounds one decompressed batch of transaction records.
constexpr size_t kMaxBatch = 64 << 20;

// Calls `done` once after `count` completions; the first error wins.
struct Countdown {
  Countdown(size_t n, std::function<void(absl::Status)> d) : remaining(n), done(std::move(d)) {}
  void complete(const absl::Status& s) {
    std::function<void(absl::Status)> call;
    absl::Status result;
    {
      std::lock_guard lock(mu);
      if (!s.ok() && status.ok()) status = s;
      if (--remaining > 0) return;
      call = std::move(done);
      result = status;
    }
    call(result);
  }
  std::mutex mu;  // guards remaining and status
  size_t remaining;
  absl::Status status;
  std::function<void(absl::Status)> done;
};

}  // namespace

void TxnStateTopic::append(int32_t partition_id, std::string key, std::optional<std::string> value,
                           std::function<void(absl::Status)> done) {
  std::shared_ptr<Partition> partition =
      broker_.partitions().get(kTransactionStateTopic, partition_id);
  if (!partition) {
    done(absl::UnavailableError(
        fmt::format("{}-{} is not open", kTransactionStateTopic, partition_id)));
    return;
  }
  protocol::Record r;
  r.offset = 0;
  r.timestamp = storage::SystemClock::instance()->now_ms();
  r.key = std::move(key);
  r.value = std::move(value);
  absl::StatusOr<std::string> batch = protocol::build_batch(protocol::BatchOptions{}, {r});
  if (!batch.ok()) return done(batch.status());
  absl::StatusOr<storage::AppendInfo> info = partition->log().append(*batch);
  if (!info.ok()) return done(info.status());
  partition->notify_appended();
  broker_.when_durable(partition, info->last_offset, std::move(done));
}

absl::Status TxnStateTopic::load_into(coordinator::TxnCoordinator& txns) {
  int64_t loaded = 0;
  for (const std::shared_ptr<Partition>& partition : broker_.partitions().all()) {
    if (partition->topic() != kTransactionStateTopic) continue;
    absl::Status s =
        storage::for_each_record(partition->log(), 0, kMaxBatch, [&](const protocol::Record& r) {
          if (!r.key) return absl::OkStatus();
          std::optional<std::string_view> value;
          if (r.value) value = *r.value;
          // One unreadable record must not keep every other transactional id from loading.
          if (absl::Status bad = txns.load(*r.key, value); !bad.ok()) {
            spdlog::warn("{}-{} offset {}: {}", kTransactionStateTopic, partition->id(), r.offset,
                         std::string(bad.message()));
          }
          ++loaded;
          return absl::OkStatus();
        });
    if (!s.ok()) return s;
  }
  spdlog::info("transaction coordinator: loaded {} records from {}", loaded,
               kTransactionStateTopic);
  return absl::OkStatus();
}

void TxnMarkers::write_markers(int64_t producer_id, int16_t producer_epoch, bool commit,
                               int32_t coordinator_epoch,
                               std::vector<coordinator::TopicPartition> partitions,
                               std::function<void(absl::Status)> done) {
  auto countdown = std::make_shared<Countdown>(partitions.size() + 1, std::move(done));
  for (const coordinator::TopicPartition& tp : partitions) {
    broker_.write_txn_marker(tp.topic, tp.partition, producer_id, producer_epoch, commit,
                             coordinator_epoch, [countdown](absl::Status s) {
                               // A topic deleted during the transaction has nothing to mark.
                               countdown->complete(absl::IsNotFound(s) ? absl::OkStatus() : s);
                             });
  }
  countdown->complete(absl::OkStatus());
}

}  // namespace gregor::broker

// OffsetsTopic: GroupLog over the __consumer_offsets partitions.
#include "broker/offsets_topic.h"

#include "broker/broker.h"
#include "broker/partition_manager.h"
#include "coordinator/group_coordinator.h"
#include "fmt/format.h"
#include "protocol/record_batch.h"
#include "spdlog/spdlog.h"
#include "storage/record_reader.h"

namespace gregor::broker {
namespace {

// Bounds one decompressed batch of group records.
constexpr size_t kMaxBatch = 64 << 20;

// The outcome a transaction marker's key holds, or nullopt for another control record.
std::optional<bool> marker_outcome(std::string_view key) {
  if (key.size() < 4) return std::nullopt;
  const auto be16 = [&](size_t at) {
    return static_cast<int16_t>((static_cast<uint8_t>(key[at]) << 8) |
                                static_cast<uint8_t>(key[at + 1]));
  };
  if (be16(0) < 0) return std::nullopt;
  const int16_t type = be16(2);
  if (type != 0 && type != 1) return std::nullopt;
  return type == 1;
}

}  // namespace

void OffsetsTopic::append(int32_t offsets_partition, std::vector<coordinator::GroupRecord> records,
                          std::function<void(absl::Status)> done) {
  append_batch(offsets_partition, std::move(records), protocol::BatchOptions{}, {},
               std::move(done));
}

void OffsetsTopic::append_transactional(int32_t offsets_partition,
                                        std::vector<coordinator::GroupRecord> records,
                                        int64_t producer_id, int16_t producer_epoch,
                                        storage::TxnVerifier verify,
                                        std::function<void(absl::Status)> done) {
  protocol::BatchOptions options;
  options.producer_id = producer_id;
  options.producer_epoch = producer_epoch;
  options.base_sequence = -1;  // Kafka's coordinator batches carry no sequence
  options.transactional = true;
  append_batch(offsets_partition, std::move(records), options, verify, std::move(done));
}

void OffsetsTopic::append_batch(int32_t offsets_partition,
                                std::vector<coordinator::GroupRecord> records,
                                const protocol::BatchOptions& options,
                                const storage::TxnVerifier& verify,
                                std::function<void(absl::Status)> done) {
  std::shared_ptr<Partition> partition = broker_.partitions().get(kOffsetsTopic, offsets_partition);
  if (!partition) {
    done(
        absl::UnavailableError(fmt::format("{}-{} is not open", kOffsetsTopic, offsets_partition)));
    return;
  }
  std::vector<protocol::Record> batch_records;
  int64_t now = storage::SystemClock::instance()->now_ms();
  for (size_t i = 0; i < records.size(); ++i) {
    protocol::Record r;
    r.offset = static_cast<int64_t>(i);
    r.timestamp = now;
    r.key = std::move(records[i].key);
    r.value = std::move(records[i].value);
    batch_records.push_back(std::move(r));
  }
  absl::StatusOr<std::string> batch = protocol::build_batch(options, batch_records);
  if (!batch.ok()) {
    done(batch.status());
    return;
  }
  // The coordinator's own batches: no client sequence checks (transactional ones carry -1).
  absl::StatusOr<storage::AppendInfo> info =
      partition->log().append(*batch, storage::AppendOrigin::kCoordinator, verify);
  if (!info.ok()) {
    done(info.status());
    return;
  }
  partition->notify_appended();
  broker_.when_durable(partition, info->last_offset, std::move(done));
}

absl::Status OffsetsTopic::load_into(coordinator::GroupCoordinator& groups) {
  int64_t loaded = 0;
  for (const std::shared_ptr<Partition>& partition : broker_.partitions().all()) {
    if (partition->topic() != kOffsetsTopic) continue;
    absl::Status s = storage::for_each_record_in_batches(
        partition->log(), 0, kMaxBatch,
        [&](const protocol::RecordBatchHeader& h, const protocol::Record& r) {
          if (!r.key) return absl::OkStatus();
          if (h.is_control()) {
            // Transaction markers: key int16 version, int16 type (0 abort, 1 commit); other
            // control types are not about transactions.
            if (std::optional<bool> commit = marker_outcome(*r.key)) {
              groups.load_control(partition->id(), h.producer_id, *commit);
              ++loaded;
            }
            return absl::OkStatus();
          }
          std::optional<std::string_view> value;
          if (r.value) value = *r.value;
          // A record the coordinator cannot read is reported and skipped: one bad record must
          // not keep every group of the partition from loading.
          absl::Status bad =
              h.is_transactional()
                  ? groups.load_transactional(partition->id(), h.producer_id, *r.key, value)
                  : groups.load(partition->id(), *r.key, value);
          if (!bad.ok()) {
            spdlog::warn("{}-{} offset {}: {}", kOffsetsTopic, partition->id(), r.offset,
                         std::string(bad.message()));
          }
          ++loaded;
          return absl::OkStatus();
        });
    if (!s.ok()) return s;
  }
  spdlog::info("group coordinator: loaded {} records from {}", loaded, kOffsetsTopic);
  return absl::OkStatus();
}

}  // namespace gregor::broker

// OffsetsTopic: GroupLog over the __consumer_offsets partitions.
#include "broker/offsets_topic.h"

#include "broker/broker.h"
#include "broker/partition_manager.h"
#include "coordinator/group_coordinator.h"
#include "fmt/format.h"
#include "protocol/record_batch.h"
#include "spdlog/spdlog.h"
#include "storage/flusher.h"
#include "storage/log_manager.h"
#include "storage/record_reader.h"

namespace gregor::broker {
namespace {

// Bounds one decompressed batch of group records.
constexpr size_t kMaxBatch = 64 << 20;

}  // namespace

void OffsetsTopic::append(int32_t offsets_partition, std::vector<coordinator::GroupRecord> records,
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
  absl::StatusOr<std::string> batch =
      protocol::build_batch(protocol::BatchOptions{}, batch_records);
  if (!batch.ok()) {
    done(batch.status());
    return;
  }
  absl::StatusOr<storage::AppendInfo> info = partition->log().append(*batch);
  if (!info.ok()) {
    done(info.status());
    return;
  }
  partition->notify_appended();
  if (!broker_.config().acks_all_fsync) {
    done(absl::OkStatus());
    return;
  }
  broker_.logs().flusher().request(partition->log_ptr(), info->last_offset, std::move(done));
}

absl::Status OffsetsTopic::load_into(coordinator::GroupCoordinator& groups) {
  int64_t loaded = 0;
  for (const std::shared_ptr<Partition>& partition : broker_.partitions().all()) {
    if (partition->topic() != kOffsetsTopic) continue;
    absl::Status s =
        storage::for_each_record(partition->log(), 0, kMaxBatch, [&](const protocol::Record& r) {
          if (!r.key) return absl::OkStatus();
          std::optional<std::string_view> value;
          if (r.value) value = *r.value;
          // A record the coordinator cannot read is reported and skipped: one bad record must
          // not keep every group of the partition from loading.
          if (absl::Status bad = groups.load(partition->id(), *r.key, value); !bad.ok()) {
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

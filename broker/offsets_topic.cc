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

namespace gregor::broker {
namespace {

// Bounds one replay read and one decompressed batch of group records.
constexpr int64_t kReadChunk = 8 << 20;
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
    storage::Log& log = partition->log();
    int64_t offset = log.log_start_offset();
    while (offset < log.log_end_offset()) {
      absl::StatusOr<storage::ReadInfo> read = log.read(offset, kReadChunk, true);
      if (!read.ok()) return read.status();
      protocol::OutputBuffer buf;
      for (const protocol::FileSlice& s : read->slices) buf.append_file(s);
      std::string bytes = buf.flatten();
      std::string_view rest = bytes;
      int64_t before = offset;
      while (rest.size() >= protocol::kBatchHeaderSize) {
        absl::StatusOr<protocol::RecordBatchHeader> h = protocol::parse_batch_header(rest);
        if (!h.ok() || h->total_size() > rest.size()) break;
        absl::StatusOr<std::vector<protocol::Record>> records =
            protocol::decode_records(rest.substr(0, h->total_size()), kMaxBatch);
        if (!records.ok()) return records.status();
        for (const protocol::Record& r : *records) {
          if (!r.key || r.offset < offset) continue;
          std::optional<std::string_view> value;
          if (r.value) value = *r.value;
          if (absl::Status s = groups.load(partition->id(), *r.key, value); !s.ok()) {
            spdlog::warn("{}-{} offset {}: {}", kOffsetsTopic, partition->id(), r.offset,
                         std::string(s.message()));
          }
          ++loaded;
        }
        offset = h->last_offset() + 1;
        rest.remove_prefix(h->total_size());
      }
      if (offset == before) {
        return absl::DataLossError(fmt::format("{}-{}: unreadable batch at offset {}",
                                               kOffsetsTopic, partition->id(), offset));
      }
    }
  }
  spdlog::info("group coordinator: loaded {} records from {}", loaded, kOffsetsTopic);
  return absl::OkStatus();
}

}  // namespace gregor::broker

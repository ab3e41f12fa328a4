// One partition's log: a directory `<topic>-<partition>` holding segments named by their
// 20-digit base offset (.log, .index, .timeindex), in Kafka's on-disk layout.
// Owned by the LogManager; shared with request handlers through std::shared_ptr.
// Thread-safety: every public method may be called from any thread; appends are serialized by
// an internal mutex, reads take it only to find segment positions and read file bytes outside it.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "protocol/wire.h"
#include "storage/clock.h"
#include "storage/compaction.h"
#include "storage/log_config.h"

namespace gregor::storage {

struct AppendInfo {
  int64_t base_offset = -1;
  int64_t last_offset = -1;
  int64_t log_append_time = -1;  // -1 unless the topic uses LogAppendTime
  int64_t log_start_offset = 0;
  int32_t batch_count = 0;
  int64_t max_timestamp = -1;
};

struct ReadInfo {
  // Whole batches from the requested offset on; empty if nothing is there yet.
  std::vector<protocol::FileSlice> slices;
  int64_t bytes = 0;
  int64_t high_watermark = 0;  // the log end offset; replication's high watermark replaces it
  int64_t log_start_offset = 0;
};

// How to open an existing log; the LogManager fills it from its checkpoint files.
struct LogOpenOptions {
  // Scan segments that may hold offsets at or above recovery_point (unclean shutdown).
  bool recover = false;
  // Offsets below this were flushed before the crash (recovery-point-offset-checkpoint).
  int64_t recovery_point = 0;
  // From log-start-offset-checkpoint; the first segment's base offset if larger.
  int64_t log_start_offset = 0;
};

class Log {
 public:
  // Opens (creating if needed) the partition directory. If `recover` is true every segment
  // after the recovery point is scanned: a torn or corrupt tail is truncated at the last valid
  // batch and missing or corrupt indexes are rebuilt; otherwise the indexes are trusted.
  static absl::StatusOr<std::shared_ptr<Log>> open(const std::filesystem::path& dir,
                                                   const LogConfig& config, const Clock* clock,
                                                   bool recover);
  static absl::StatusOr<std::shared_ptr<Log>> open(const std::filesystem::path& dir,
                                                   const LogConfig& config, const Clock* clock,
                                                   const LogOpenOptions& options);
  ~Log();

  // Validates `batches` (one or more whole v2 batches as produced by a client), assigns
  // offsets in place, and writes them to the active segment (page cache). Errors:
  // DataLoss (CRC or framing: CORRUPT_MESSAGE), InvalidArgument (INVALID_RECORD),
  // ResourceExhausted (MESSAGE_TOO_LARGE), Internal/Unavailable (KAFKA_STORAGE_ERROR).
  absl::StatusOr<AppendInfo> append(std::string& batches);

  // Appends batches that already carry their offsets (internal writers such as the metadata
  // log, or a follower); `batches` must start at log_end_offset() (a later first offset is
  // accepted, for sources with gaps). Offsets must strictly increase; CRCs are checked.
  absl::StatusOr<AppendInfo> append_with_offsets(std::string_view batches);

  // Reads whole batches starting with the one holding `offset`, up to `max_bytes` (at least one
  // batch even if bigger, when `min_one_batch`). OutOfRange if offset is below the log start or
  // above the log end.
  absl::StatusOr<ReadInfo> read(int64_t offset, int64_t max_bytes, bool min_one_batch) const;

  // ListOffsets by timestamp: first offset whose batch max timestamp >= ts, or -1 if none.
  // Returns {offset, timestamp}.
  std::pair<int64_t, int64_t> offset_for_timestamp(int64_t ts) const;
  // ListOffsets MAX_TIMESTAMP: {offset, timestamp} of the record with the largest timestamp.
  std::pair<int64_t, int64_t> max_timestamp_offset() const;

  int64_t log_start_offset() const;
  int64_t log_end_offset() const;
  // Offsets below this have been fdatasync'ed.
  int64_t flushed_offset() const;
  int64_t size_bytes() const;

  // fdatasync every segment with unflushed data; afterwards flushed_offset() covers all
  // appends that completed before the call.
  absl::Status flush();
  // Rolls the active segment if segment.ms or segment.bytes say so; deletes segments past
  // retention.ms / retention.bytes (never the active one) and advances the log start offset.
  // Returns the number of segments deleted.
  absl::StatusOr<int> apply_retention();
  // Flushes, trims indexes to their used size and closes files.
  absl::Status close();
  // Closes and removes the whole directory.
  absl::Status remove();

  // flush.ms: flushes if unflushed data is older than flush.ms (LogManager's scheduler).
  absl::Status flush_if_due();

  // Log compaction (cleanup.policy=compact), driven by the LogCleaner. How much of the log is
  // cleanable and dirty, given the cleaner checkpoint.
  CleanableStats cleanable_stats(int64_t first_dirty_offset) const;
  // One pass: keeps the latest record per key over the cleanable segments (never the active
  // one), drops null-key records and tombstones past their delete horizon, and swaps the
  // rewritten segments in (.cleaned -> .swap -> final name) under the log's lock, briefly.
  // Offsets and the log end offset do not change. One pass at a time per log.
  absl::StatusOr<CompactionResult> compact(const CompactOptions& options);

  const std::filesystem::path& dir() const;
  LogConfig config() const;
  void update_config(const LogConfig& config);

  // Introspection for tests and metrics.
  int64_t recovered_batches() const;  // batches scanned by recovery when the log was opened
  int64_t flush_count() const;        // flush() calls that issued fdatasync
  std::vector<int64_t> segment_base_offsets() const;

 private:
  class Impl;
  explicit Log(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace gregor::storage

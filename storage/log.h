// One partition's log: a directory `<topic>-<partition>` holding segments named by their
// 20-digit base offset (.log, .index, .timeindex, .txnindex) and producer state snapshots
// (.snapshot), in Kafka's on-disk layout. It also keeps the partition's producer state
// (idempotence, transactions and the last stable offset).
// Owned by the LogManager; shared with request handlers through std::shared_ptr.
// Thread-safety: every public method may be called from any thread; appends are serialized by
// an internal mutex, reads take it only to find segment positions and read file bytes outside it.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "protocol/wire.h"
#include "storage/clock.h"
#include "storage/compaction.h"
#include "storage/log_config.h"
#include "storage/producer_state.h"
#include "storage/txn_verifier.h"

namespace gregor::storage {

struct AppendInfo {
  int64_t base_offset = -1;
  int64_t last_offset = -1;
  int64_t log_append_time = -1;  // -1 unless the topic uses LogAppendTime
  int64_t log_start_offset = 0;
  int32_t batch_count = 0;
  int64_t max_timestamp = -1;
  // A retried idempotent batch already in the log: nothing was written and the offsets (and
  // max_timestamp) are the original batch's.
  bool duplicate = false;
};

// An aborted transaction a read_committed reader must drop (FetchResponse AbortedTransaction).
struct AbortedTxn {
  int64_t producer_id = -1;
  int64_t first_offset = -1;
  bool operator==(const AbortedTxn&) const = default;
};

// DescribeProducers' view of one producer.
struct ProducerInfo {
  int64_t producer_id = -1;
  int16_t epoch = -1;
  int32_t last_sequence = -1;
  int64_t last_timestamp = -1;
  int32_t coordinator_epoch = -1;
  int64_t current_txn_start_offset = -1;  // -1: no ongoing transaction
};

struct ReadInfo {
  // Whole batches from the requested offset on; empty if nothing is there yet.
  std::vector<protocol::FileSlice> slices;
  int64_t bytes = 0;
  int64_t high_watermark = 0;  // the log end offset; replication's high watermark replaces it
  int64_t log_start_offset = 0;
  int64_t last_stable_offset = 0;
  // read_committed only: aborted transactions overlapping the returned range.
  std::vector<AbortedTxn> aborted;
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
  // Producer state comes from the newest valid snapshot at or below the log end (and below
  // any recovered segment) plus a scan of the batch headers after it; recovered segments get
  // their .txnindex rebuilt by that scan.
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
  // ResourceExhausted (MESSAGE_TOO_LARGE), Internal/Unavailable (KAFKA_STORAGE_ERROR: I/O
  // failures, a full disk too), and FailedPrecondition carrying a Kafka code
  // (storage/kafka_error.h) for producer state: INVALID_PRODUCER_EPOCH,
  // OUT_OF_ORDER_SEQUENCE_NUMBER, INVALID_TXN_STATE.
  // A batch with a producer id must come alone (INVALID_RECORD otherwise); from clients it
  // needs a base sequence >= 0 and may not be a control batch. A retry of one of the
  // producer's last 5 batches writes nothing and returns the original offsets, duplicate set.
  // kCoordinator appends skip the duplicate and sequence checks (base sequence -1).
  // `verify`, if set, is asked before a transactional batch opens its producer's transaction
  // here; its error is the append's.
  absl::StatusOr<AppendInfo> append(std::span<char> batches,
                                    AppendOrigin origin = AppendOrigin::kClient,
                                    const TxnVerifier& verify = {});

  // Writes a COMMIT or ABORT marker for the producer at the log end, ending its transaction
  // here (an ABORT is recorded in the active segment's .txnindex). Kafka-coded errors:
  // INVALID_PRODUCER_EPOCH (epoch older than the producer's), TRANSACTION_COORDINATOR_FENCED
  // (coordinator epoch older than the last marker's). A marker for a producer with no ongoing
  // transaction here is written anyway and changes nothing else.
  absl::StatusOr<AppendInfo> append_control(int64_t producer_id, int16_t producer_epoch,
                                            bool commit, int32_t coordinator_epoch);

  // Appends batches that already carry their offsets (internal writers such as the metadata
  // log, or a follower); `batches` must start at log_end_offset() (a later first offset is
  // accepted, for sources with gaps). Offsets must strictly increase; CRCs are checked.
  // Producer state follows the batches without checks (Kafka's REPLICATION origin).
  absl::StatusOr<AppendInfo> append_with_offsets(std::string_view batches);

  // Reads whole batches starting with the one holding `offset`, up to `max_bytes` (at least one
  // batch even if bigger, when `min_one_batch`). OutOfRange if offset is below the log start or
  // above the log end.
  absl::StatusOr<ReadInfo> read(int64_t offset, int64_t max_bytes, bool min_one_batch) const;
  // The same; with read_committed nothing at or above the last stable offset is returned and
  // `aborted` lists every aborted transaction overlapping [offset, end of the returned data).
  absl::StatusOr<ReadInfo> read(int64_t offset, int64_t max_bytes, bool min_one_batch,
                                bool read_committed) const;

  // ListOffsets by timestamp: first offset whose batch max timestamp >= ts, or -1 if none.
  // Returns {offset, timestamp}.
  std::pair<int64_t, int64_t> offset_for_timestamp(int64_t ts) const;
  // ListOffsets MAX_TIMESTAMP: {offset, timestamp} of the record with the largest timestamp.
  std::pair<int64_t, int64_t> max_timestamp_offset() const;

  int64_t log_start_offset() const;
  int64_t log_end_offset() const;
  // First offset of the oldest ongoing transaction, else the log end offset. Lock-free.
  int64_t last_stable_offset() const;
  // Every producer the partition knows (DescribeProducers), by producer id.
  std::vector<ProducerInfo> producers() const;
  // Forgets producers idle longer than producer_id_expiration_ms (by their last batch's
  // timestamp) that have no ongoing transaction. Returns how many.
  int expire_producers();
  // Offsets below this have been fdatasync'ed.
  int64_t flushed_offset() const;
  int64_t size_bytes() const;

  // fdatasync every segment with unflushed data; afterwards flushed_offset() covers all
  // appends that completed before the call.
  absl::Status flush();
  // Rolls the active segment if segment.ms or segment.bytes say so; deletes segments past
  // retention.ms / retention.bytes (never the active one) and advances the log start offset,
  // with the producer snapshots below the first segment (the newest 2 always stay).
  // Returns the number of segments deleted.
  absl::StatusOr<int> apply_retention();
  // Flushes, trims indexes to their used size, writes a producer snapshot at the log end
  // (so that the next open scans nothing) and closes files.
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
  // Batches the producer state rebuild scanned when the log was opened (0 after a clean close).
  int64_t producer_scanned_batches() const;
  int64_t flush_count() const;  // flush() calls that issued fdatasync
  std::vector<int64_t> segment_base_offsets() const;

 private:
  class Impl;
  explicit Log(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace gregor::storage

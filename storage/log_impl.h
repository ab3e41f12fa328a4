// Private to storage/: the state behind storage::Log, shared by log.cc (append, read, flush,
// retention) and log_open.cc (directory scan and recovery).
#pragma once

#include <atomic>
#include <cstdint>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "storage/log.h"
#include "storage/producer_state.h"
#include "storage/segment.h"

namespace gregor::storage {

class Log::Impl {
 public:
  Impl(std::filesystem::path dir, const LogConfig& config, const Clock* clock)
      : dir_(std::move(dir)), clock_(clock), config_(config) {}

  // Opening (log_open.cc).
  absl::Status load(const LogOpenOptions& options);

  absl::StatusOr<AppendInfo> append(std::span<char> batches, AppendOrigin origin,
                                    const TxnVerifier& verify);
  absl::StatusOr<AppendInfo> append_with_offsets(std::string_view batches);
  absl::StatusOr<ReadInfo> read(int64_t offset, int64_t max_bytes, bool min_one_batch,
                                bool read_committed) const;
  std::pair<int64_t, int64_t> offset_for_timestamp(int64_t ts) const;
  std::pair<int64_t, int64_t> max_timestamp_offset() const;
  absl::Status flush();
  absl::Status flush_if_due();
  absl::StatusOr<int> apply_retention();
  absl::Status close();

  // Compaction (compaction.cc).
  CleanableStats cleanable_stats(int64_t first_dirty_offset) const;
  absl::StatusOr<CompactionResult> compact(const CompactOptions& options);

  const std::filesystem::path dir_;
  const Clock* const clock_;

  // Offsets, published for lock-free readers; written under mu_.
  std::atomic<int64_t> log_start_offset_{0};
  std::atomic<int64_t> log_end_offset_{0};
  std::atomic<int64_t> flushed_offset_{0};
  std::atomic<int64_t> size_bytes_{0};
  std::atomic<int64_t> flush_count_{0};
  // Published under mu_ after the producer state and log end it derives from.
  std::atomic<int64_t> last_stable_offset_{0};
  int64_t recovered_batches_ = 0;         // written once by load()
  int64_t producer_scanned_batches_ = 0;  // batches the producer state scan read at load()

  // Guards the segment map, the config and the append/roll state.
  mutable absl::Mutex mu_;
  LogConfig config_ ABSL_GUARDED_BY(mu_);
  std::map<int64_t, std::shared_ptr<Segment>> segments_ ABSL_GUARDED_BY(mu_);
  // Rolled segments whose data (and indexes) have not been fdatasync'ed yet.
  std::vector<std::shared_ptr<Segment>> unflushed_segments_ ABSL_GUARDED_BY(mu_);
  int64_t unflushed_messages_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t last_flush_ms_ ABSL_GUARDED_BY(mu_) = 0;
  bool dir_dirty_ ABSL_GUARDED_BY(mu_) = false;  // files created since the last dir fsync
  bool closed_ ABSL_GUARDED_BY(mu_) = false;
  ProducerStateManager producer_state_ ABSL_GUARDED_BY(mu_);
  int64_t last_snapshot_offset_ ABSL_GUARDED_BY(mu_) = -1;

  // Serializes flush() so that flushed_offset_ only grows and fsyncs do not pile up.
  absl::Mutex flush_mu_;
  // One compaction pass at a time; held for the whole pass, never while waiting for mu_'s
  // writers, so appends and reads only wait for the final swap.
  absl::Mutex clean_mu_;
  // Earliest delete horizon of a tombstone kept by the last pass (max: none known).
  std::atomic<int64_t> next_delete_horizon_ms_{std::numeric_limits<int64_t>::max()};

 private:
  struct Parsed {
    std::vector<BatchInfo> infos;
    int64_t records = 0;
    // The batch with a producer id (it comes alone), offsets not yet assigned.
    std::optional<ProducerBatchFacts> producer_batch;
  };
  // Splits and checks client batches (framing, size limit, validate_batch, origin rules).
  absl::StatusOr<Parsed> parse_client_batches(std::string_view batches, AppendOrigin origin) const;
  // Applies a checked producer update after its batch was written: ends or starts the
  // transaction, records an abort in the active segment's .txnindex, publishes the LSO.
  absl::Status apply_producer_update(ProducerUpdate update) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Producer state follows one batch already in the log (replication, the recovery scan), with
  // no checks; an abort it completes is recorded in `txn_index` when given.
  absl::Status replay_batch(const ProducerBatchFacts& b, TxnIndex* txn_index)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void publish_last_stable_offset() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Writes `<offset>.snapshot` of the current producer state unless it is already there.
  absl::Status take_snapshot(int64_t offset) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Opening: snapshot + scan; `rebuild` are the bases of segments whose .txnindex is rebuilt.
  absl::Status load_producer_state(const std::set<int64_t>& rebuild, int64_t now)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  std::shared_ptr<Segment> active() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Rolls first if the append of `bytes` up to `last_offset` would not fit the active segment.
  absl::Status maybe_roll(int64_t bytes, int64_t first_offset, int64_t last_offset, int64_t now)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status roll(int64_t new_base, int64_t now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::StatusOr<AppendInfo> write(std::string_view batches, const Parsed& parsed, int64_t now)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Non-active segments old enough for min.compaction.lag.ms, oldest first (compaction.cc).
  std::vector<std::shared_ptr<Segment>> cleanable_segments(int64_t now) const
      ABSL_SHARED_LOCKS_REQUIRED(mu_);
};

// Before a log's segments are listed (log_open.cc): finishes cleaner swaps a crash interrupted.
// Each `<base>.log.swap` is a complete, fsynced cleaned segment: the segments it replaces
// (bases in [base, its end)) are deleted and it takes its final name; its indexes are dropped
// so that opening rebuilds them. `.cleaned` files are left for the leftover sweep.
absl::Status complete_interrupted_swaps(const std::filesystem::path& dir);

}  // namespace gregor::storage

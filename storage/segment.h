// One log segment: `<20-digit base offset>.log` holding whole record batches back to back,
// plus its sparse `.index` and `.timeindex`. The Log decides offsets and when to roll; the
// segment writes bytes, keeps the indexes in step, serves reads and rebuilds itself on recovery.
#pragma once

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "protocol/wire.h"
#include "storage/file.h"
#include "storage/offset_index.h"
#include "storage/page_cache_window.h"
#include "storage/read_hints.h"
#include "storage/time_index.h"
#include "storage/txn_index.h"

namespace gregor::storage {

// What the log knows about each batch it hands to Segment::append.
struct BatchInfo {
  int64_t base_offset = 0;
  int64_t last_offset = 0;
  int64_t max_timestamp = -1;
  int64_t size = 0;  // whole batch, log overhead included
};

// Bound on decompressing one batch when looking for a record by timestamp.
inline constexpr size_t kMaxDecompressedBatchBytes = 256u << 20;

// "00000000000000000042" for 42.
std::string segment_file_stem(int64_t base_offset);

// Thread-safety: append/recover/roll/close are called by one writer at a time (the Log holds its
// mutex); read, translate and timestamp lookups may run concurrently with an append, bounded by
// a size snapshot taken under that mutex.
class Segment {
 public:
  // Opens the three files in `dir`, creating them when missing, and loads the `.txnindex` if
  // there is one (a corrupt one is dropped and txn_index_lost() says so: the log rebuilds it). Does
  // not scan the log: call recover() or load() next. `suffix` is appended to every file name
  // (".cleaned", ".swap": segments the log cleaner is writing or swapping in).
  static absl::StatusOr<std::shared_ptr<Segment>> open(const std::filesystem::path& dir,
                                                       int64_t base_offset, int64_t index_max_bytes,
                                                       int32_t index_interval_bytes,
                                                       std::string_view suffix = {});

  int64_t base_offset() const { return base_offset_; }
  int64_t size() const { return size_.load(std::memory_order_acquire); }
  // One past the last offset written; base_offset() when empty.
  int64_t next_offset() const { return next_offset_.load(std::memory_order_acquire); }
  int64_t max_timestamp() const { return max_timestamp_.load(std::memory_order_acquire); }
  int64_t offset_of_max_timestamp() const {
    return offset_of_max_timestamp_.load(std::memory_order_acquire);
  }
  bool indexes_full() const { return offset_index_->full() || time_index_->full(); }
  const std::filesystem::path& log_path() const { return log_path_; }
  // When the segment was created or opened (segment.ms roll).
  int64_t created_ms = 0;
  bool empty() const { return size() == 0; }

  // Writes whole batches whose offsets are already set, then updates the indexes.
  // REQUIRES: batches.size() == sum of infos' sizes; offsets above next_offset().
  absl::Status append(std::string_view batches, std::span<const BatchInfo> infos);

  // Full recovery scan from position 0: every batch header is checked for bounds, magic and
  // increasing offsets and its CRC is verified; the file is truncated at the first bad batch
  // and both indexes are rebuilt. Returns the number of valid batches scanned; sets
  // *truncated when bytes were cut.
  absl::StatusOr<int64_t> recover(bool* truncated);
  // Trusting open (after a clean shutdown): checks the indexes (DataLoss if one is missing or
  // fails the sanity check, so the caller can recover()), then finds the end by scanning the
  // batches after the last offset-index entry.
  absl::Status load();

  // Position of the first batch whose last offset >= offset, reading no further than
  // `end` (a size snapshot); nullopt if there is none. Where a read ended just before
  // `offset`, that position is the answer without an index search.
  absl::StatusOr<std::optional<int64_t>> translate(int64_t offset, int64_t end) const;
  // Whole batches from the one holding `offset`, at most max_bytes (one batch at least if
  // min_one_batch) and never past `end`. An empty slice if no batch holds offset. `end_offset`
  // is the offset just past the batches below `end` (snapshotted with it). A read that goes on
  // where an earlier one ended needs no index search, and one that takes everything up to `end`
  // reads no batch header.
  absl::StatusOr<protocol::FileSlice> read(int64_t offset, int64_t max_bytes, bool min_one_batch,
                                           int64_t end, int64_t end_offset) const;
  // First record with timestamp >= ts: {offset, timestamp}, or nullopt if none here.
  absl::StatusOr<std::optional<std::pair<int64_t, int64_t>>> find_offset_by_timestamp(
      int64_t ts, int64_t end) const;

  // fdatasync of the log file; fails for good once a sync or a writeback of it failed.
  absl::Status flush();
  // Keeps the last `window` bytes of the log file in the page cache and evicts the rest once
  // written (PageCacheWindow). Any thread, outside the Log's mutex: it may wait for writeback.
  void release_pages_behind(int64_t window) { cache_window_.advance(*log_, size(), window); }
  absl::Status flush_indexes();
  // The segment stops being active: final time-index entry, indexes trimmed.
  absl::Status on_roll();
  // Gives the active segment room to append index entries.
  absl::Status preallocate_indexes();
  // Unlinks the files (the .txnindex too); open descriptors (fetches in flight) keep working.
  absl::Status delete_files();

  std::shared_ptr<File> log_file() const { return log_; }
  // Aborted transactions whose markers are in this segment (Kafka's TransactionIndex).
  TxnIndex& txn_index() const { return *txn_index_; }
  bool txn_index_lost() const { return txn_index_lost_; }

 private:
  Segment(std::filesystem::path log_path, int64_t base, int32_t interval)
      : log_path_(std::move(log_path)), base_offset_(base), index_interval_bytes_(interval) {}
  absl::Status index_batch(const BatchInfo& info, int64_t position);
  absl::Status reset_state();

  std::filesystem::path log_path_;
  int64_t base_offset_;
  int32_t index_interval_bytes_;
  std::shared_ptr<File> log_;
  std::unique_ptr<OffsetIndex> offset_index_;
  std::unique_ptr<TimeIndex> time_index_;
  std::unique_ptr<TxnIndex> txn_index_;
  bool txn_index_lost_ = false;
  std::atomic<int64_t> size_{0};
  std::atomic<int64_t> next_offset_{0};
  std::atomic<int64_t> max_timestamp_{-1};
  std::atomic<int64_t> offset_of_max_timestamp_{-1};
  int64_t bytes_since_last_index_entry_ = 0;
  PageCacheWindow cache_window_;
  mutable ReadHints read_hints_;
  absl::Mutex sync_error_mu_;
  absl::Status sync_error_ ABSL_GUARDED_BY(sync_error_mu_);  // the first failed flush
  bool indexes_existed_ = true;  // both index files were there when opened
};

}  // namespace gregor::storage

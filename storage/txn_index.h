// A segment's transaction index `<base>.txnindex` (Kafka's TransactionIndex): one entry per
// aborted transaction whose ABORT marker is in the segment, in marker order, so that
// read_committed fetches can tell consumers which producer ranges to drop. The file is created
// on the first entry; entries are also held in memory (aborts are rare, 34 bytes each).
// Thread-safety: append/reset/flush come from the log's writer (under its mutex); collect and
// entries may run concurrently from readers (an internal mutex guards the entries).
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "storage/file.h"

namespace gregor::storage {

// One aborted transaction: data of `producer_id` in [first_offset, last_offset] is aborted
// (last_offset is the marker's). last_stable_offset is the LSO once the marker was written.
struct AbortedTxnEntry {
  int64_t producer_id = -1;
  int64_t first_offset = -1;
  int64_t last_offset = -1;
  int64_t last_stable_offset = -1;
  bool operator==(const AbortedTxnEntry&) const = default;
};

// Entry layout, big-endian: [int16 version 0][int64 producer_id][int64 first_offset]
// [int64 last_offset][int64 last_stable_offset].
inline constexpr int64_t kTxnIndexEntrySize = 34;

class TxnIndex {
 public:
  // Loads `path` if it exists. DataLoss if its size is not a whole number of entries or an
  // entry has an unknown version or is out of order: the caller rebuilds the index (reset()
  // and re-append from the log).
  static absl::StatusOr<std::unique_ptr<TxnIndex>> open(std::filesystem::path path);
  // An empty index for `path` that ignores whatever file is there until the first append.
  static std::unique_ptr<TxnIndex> empty(std::filesystem::path path);

  // DataLoss unless entry.last_offset is above every earlier entry's.
  absl::Status append(const AbortedTxnEntry& entry);
  // Kafka's collectAbortedTxns: appends to *out every entry overlapping [fetch_offset,
  // upper_bound) and returns true once an entry's last_stable_offset reaches upper_bound (no
  // later segment can add anything).
  bool collect(int64_t fetch_offset, int64_t upper_bound, std::vector<AbortedTxnEntry>* out) const;
  std::vector<AbortedTxnEntry> entries() const;
  // Drops every entry and the file.
  absl::Status reset();
  // Writes `entries` as the whole file at `path` (compaction's merged index), synced.
  static absl::Status write_file(const std::filesystem::path& path,
                                 const std::vector<AbortedTxnEntry>& entries);
  absl::Status flush();
  // Removes the file; the entries stay readable in memory.
  absl::Status unlink();
  const std::filesystem::path& path() const { return path_; }

 private:
  explicit TxnIndex(std::filesystem::path path) : path_(std::move(path)) {}
  const std::filesystem::path path_;
  mutable absl::Mutex mu_;
  std::vector<AbortedTxnEntry> entries_ ABSL_GUARDED_BY(mu_);
  std::shared_ptr<File> file_ ABSL_GUARDED_BY(mu_);  // opened on the first append
  bool dirty_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace gregor::storage

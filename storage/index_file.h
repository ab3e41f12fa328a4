// The file behind a sparse index (.index, .timeindex): fixed-size big-endian entries, appended
// with pwrite and searched with pread, preallocated while the segment is active and trimmed to
// the used size when it is rolled or closed.
#pragma once

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "storage/file.h"

namespace gregor::storage {

// Why pread/pwrite rather than mmap: lookups cost a few page-cache reads (binary search), so
// memory stays bounded by the page cache as with mmap, but a concurrent truncate or delete can
// never turn a read into SIGBUS, and there is no remapping when the file is resized.
// Thread-safety: one writer (the log's append path, under the log mutex); any number of
// concurrent readers. Readers see a prefix of the entries: the count is published with release
// order after the entry's bytes are written.
class IndexFile {
 public:
  using Entry = std::string_view;  // entry_size bytes
  // True if the entry is zero padding (never written). Only consulted for entries after the
  // first, whose keys are strictly increasing and hence never zero when written.
  using IsPadding = std::function<bool(const char* entry)>;

  // Opens or creates the file; the used entries are the prefix before the padding left by
  // preallocation (found by binary search, since written keys strictly increase).
  static absl::StatusOr<std::unique_ptr<IndexFile>> open(const std::filesystem::path& path,
                                                         int entry_size, int64_t max_bytes,
                                                         IsPadding is_padding);

  int entry_size() const { return entry_size_; }
  int64_t entries() const { return entries_.load(std::memory_order_acquire); }
  int64_t max_entries() const { return max_entries_; }
  bool full() const { return entries() >= max_entries_; }
  // False if the file length was not a multiple of the entry size when opened.
  bool length_ok() const { return length_ok_; }
  const std::filesystem::path& path() const { return path_; }

  // REQUIRES: buf holds entry_size bytes, i < entries().
  absl::Status read(int64_t i, char* buf) const;
  // REQUIRES: !full(), unless `force` (one final entry on roll may exceed the preallocation,
  // as Kafka allows).
  absl::Status append(const char* entry, bool force = false);
  // Largest i in [0, n) with before(entry i) true, for a predicate that is true on a prefix;
  // -1 when none. n is a snapshot of entries().
  absl::StatusOr<int64_t> search_last(int64_t n,
                                      const std::function<bool(const char*)>& before) const;

  // Drops every entry (before a rebuild).
  absl::Status reset();
  // Drops the entries from n on (an append that failed half way) and zeroes their bytes, so
  // that reopening the file does not count them. REQUIRES: n <= entries().
  absl::Status drop_from(int64_t n);
  // Reserves the full segment.index.bytes so appends never allocate (active segment only).
  absl::Status preallocate();
  // Shrinks the file to the used entries (rolled or closed segment).
  absl::Status trim();
  absl::Status sync() { return file_->datasync(); }
  absl::Status unlink();

 private:
  IndexFile(std::filesystem::path path, std::shared_ptr<File> file, int entry_size,
            int64_t max_entries)
      : path_(std::move(path)),
        file_(std::move(file)),
        entry_size_(entry_size),
        max_entries_(max_entries) {}

  std::filesystem::path path_;
  std::shared_ptr<File> file_;
  int entry_size_;
  int64_t max_entries_;
  bool length_ok_ = true;
  std::atomic<int64_t> entries_{0};
};

// Big-endian helpers for index entries.
void put_be32(char* p, uint32_t v);
void put_be64(char* p, uint64_t v);
uint32_t get_be32(const char* p);
uint64_t get_be64(const char* p);

}  // namespace gregor::storage

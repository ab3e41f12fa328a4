// The `.timeindex` file of a segment: 12-byte big-endian entries (int64 timestamp, int32 offset
// relative to the segment base), appended only when the segment's max timestamp grows, so
// timestamps are strictly increasing. Used by ListOffsets-by-timestamp and time retention.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "storage/index_file.h"

namespace gregor::storage {

// Thread-safety: as IndexFile (one appender, concurrent lookups).
class TimeIndex {
 public:
  static constexpr int kEntrySize = 12;
  struct Entry {
    int64_t timestamp = -1;
    int64_t offset = 0;  // absolute
  };

  static absl::StatusOr<std::unique_ptr<TimeIndex>> open(const std::filesystem::path& path,
                                                         int64_t base_offset, int64_t max_bytes);

  // Appends only if timestamp is greater than the last entry's (returns OK otherwise).
  // REQUIRES: !full() when it would append, unless `force`; offset - base fits in int32.
  absl::Status maybe_append(int64_t timestamp, int64_t offset, bool force = false);
  // Drops every entry (before a rebuild).
  absl::Status reset();
  // Largest entry whose timestamp is < ts: every batch before its offset has a max timestamp
  // < ts, so a scan for the first batch reaching ts may start there. {-1, base} if none.
  absl::StatusOr<Entry> lookup_before(int64_t ts) const;
  // {-1, base_offset} when empty.
  absl::StatusOr<Entry> last_entry() const;
  absl::Status sanity_check(int64_t next_offset) const;

  int64_t entries() const { return file_->entries(); }
  bool full() const { return file_->full(); }
  IndexFile& file() { return *file_; }

 private:
  TimeIndex(std::unique_ptr<IndexFile> file, int64_t base)
      : file_(std::move(file)), base_offset_(base) {}
  Entry decode(const char* e) const;

  std::unique_ptr<IndexFile> file_;
  int64_t base_offset_;
  int64_t last_timestamp_ = -1;  // guarded by the single appender
};

}  // namespace gregor::storage

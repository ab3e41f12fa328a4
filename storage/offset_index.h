// The `.index` file of a segment: a sparse map from offset to the file position of a batch,
// one 8-byte entry every index.interval.bytes of log. Entry: int32 offset relative to the
// segment's base offset, int32 byte position in the .log file, both big-endian. As in Kafka,
// an entry names the last offset of the batch that starts at its position.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "storage/index_file.h"

namespace gregor::storage {

// Thread-safety: as IndexFile (one appender, concurrent lookups).
class OffsetIndex {
 public:
  static constexpr int kEntrySize = 8;
  struct Entry {
    int64_t offset = 0;    // absolute
    int64_t position = 0;  // in the .log file
  };

  static absl::StatusOr<std::unique_ptr<OffsetIndex>> open(const std::filesystem::path& path,
                                                           int64_t base_offset, int64_t max_bytes);

  // REQUIRES: offset > last_entry().offset (or the index is empty), position grows likewise,
  // offset - base fits in int32, !full().
  absl::Status append(int64_t offset, int64_t position);
  // Largest entry with offset <= target; {base_offset, 0} if there is none.
  absl::StatusOr<Entry> lookup(int64_t target) const;
  // {base_offset, 0} when empty.
  absl::StatusOr<Entry> last_entry() const;
  // Kafka's sanity check plus bounds against the log file: length a multiple of 8, entries
  // within [base, next_offset) and positions below log_size.
  absl::Status sanity_check(int64_t log_size) const;

  int64_t entries() const { return file_->entries(); }
  bool full() const { return file_->full(); }
  IndexFile& file() { return *file_; }
  int64_t base_offset() const { return base_offset_; }

 private:
  OffsetIndex(std::unique_ptr<IndexFile> file, int64_t base)
      : file_(std::move(file)), base_offset_(base) {}
  Entry decode(const char* e) const;

  std::unique_ptr<IndexFile> file_;
  int64_t base_offset_;
};

}  // namespace gregor::storage

// Walks the batch headers of a segment file with buffered preads, so that scanning many small
// batches costs a few large reads rather than one syscall per batch.
#pragma once

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "protocol/record_batch.h"
#include "storage/file.h"

namespace gregor::storage {

class BatchScanner {
 public:
  // Scans [position, end) of `file`.
  BatchScanner(const File& file, int64_t position, int64_t end)
      : file_(file), position_(position), end_(end) {}

  enum class Result { kBatch, kEnd, kBad };
  // Reads the header at position(). kEnd at exactly `end`; kBad when the bytes there are not a
  // plausible v2 batch header (too short, bad magic or length, or running past `end`).
  // Only I/O errors are returned as a non-OK status.
  absl::StatusOr<Result> next(protocol::RecordBatchHeader* header);
  // Moves past the batch that next() returned.
  void advance(const protocol::RecordBatchHeader& header) { position_ += header.total_size(); }
  int64_t position() const { return position_; }

 private:
  static constexpr int64_t kWindow = 16 * 1024;
  const File& file_;
  int64_t position_;
  int64_t end_;
  std::string window_;
  int64_t window_start_ = -1;
};

}  // namespace gregor::storage

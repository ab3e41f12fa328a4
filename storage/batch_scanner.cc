// Buffered batch-header walk over a segment file.
#include "storage/batch_scanner.h"

#include <algorithm>
#include <string_view>

namespace gregor::storage {

absl::StatusOr<BatchScanner::Result> BatchScanner::next(protocol::RecordBatchHeader* header) {
  if (position_ >= end_) return position_ == end_ ? Result::kEnd : Result::kBad;
  const int64_t need = static_cast<int64_t>(protocol::kBatchHeaderSize);
  if (end_ - position_ < need) return Result::kBad;
  if (window_start_ < 0 || position_ < window_start_ ||
      position_ + need > window_start_ + static_cast<int64_t>(window_.size())) {
    int64_t n = std::min(kWindow, end_ - position_);
    window_.resize(static_cast<size_t>(n));
    absl::StatusOr<size_t> got = file_.pread(window_.data(), window_.size(), position_);
    if (!got.ok()) return got.status();
    window_.resize(*got);
    window_start_ = position_;
    if (static_cast<int64_t>(*got) < need) return Result::kBad;
  }
  std::string_view bytes(window_.data() + (position_ - window_start_), protocol::kBatchHeaderSize);
  absl::StatusOr<protocol::RecordBatchHeader> parsed = protocol::parse_batch_header(bytes);
  if (!parsed.ok() || parsed->magic != protocol::kMagicV2 || parsed->last_offset_delta < 0 ||
      static_cast<int64_t>(parsed->total_size()) > end_ - position_) {
    return Result::kBad;
  }
  *header = *parsed;
  return Result::kBatch;
}

}  // namespace gregor::storage

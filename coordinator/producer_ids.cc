// ProducerIdManager: ids from the current block, a new block when it runs out.
#include "coordinator/producer_ids.h"

namespace gregor::coordinator {

absl::StatusOr<int64_t> ProducerIdManager::next() {
  std::lock_guard lock(mu_);
  if (next_ >= end_) {
    absl::StatusOr<int64_t> first = source_(block_size_);
    if (!first.ok()) return first.status();
    next_ = *first;
    end_ = *first + block_size_;
  }
  return next_++;
}

}  // namespace gregor::coordinator

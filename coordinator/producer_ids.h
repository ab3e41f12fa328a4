// Producer ids for idempotent and transactional producers. Ids are handed out from blocks that
// the cluster metadata log records (ProducerIdsRecord, as KRaft's controller does), so an id is
// never given twice, not even across restarts: a block is durable before its first id is used.
// Thread-safety: next() may be called from any thread.
#pragma once

#include <cstdint>
#include <functional>
#include <mutex>

#include "absl/status/statusor.h"

namespace gregor::coordinator {

class ProducerIdManager {
 public:
  // Reserves `size` new ids durably and returns the first of them.
  using BlockSource = std::function<absl::StatusOr<int64_t>(int32_t size)>;
  // Kafka's controller hands out blocks of 1000.
  static constexpr int32_t kBlockSize = 1000;

  explicit ProducerIdManager(BlockSource source, int32_t block_size = kBlockSize)
      : source_(std::move(source)), block_size_(block_size) {}

  // The next unused id; reserves a new block when the current one is used up.
  absl::StatusOr<int64_t> next();

 private:
  const BlockSource source_;
  const int32_t block_size_;
  std::mutex mu_;  // guards next_ and end_, and serializes block reservations
  int64_t next_ = 0;
  int64_t end_ = 0;  // exclusive; next_ == end_ means no block in hand
};

}  // namespace gregor::coordinator

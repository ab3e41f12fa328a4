// Re-encoding a stored record batch with some of its records removed (log compaction), keeping
// the header fields that producer state and offsets depend on.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "protocol/record_batch.h"

namespace gregor::storage {

// Attribute bit 6: baseTimestamp holds the delete horizon (Kafka's KIP-534). Tombstones in the
// batch may be dropped by a cleaning that starts after that time.
inline constexpr int16_t kDeleteHorizonFlag = 0x40;

inline bool has_delete_horizon(const protocol::RecordBatchHeader& h) {
  return (h.attributes & kDeleteHorizonFlag) != 0;
}

// Writes a batch holding `kept` (records of `original`, in offset order, with their original
// offsets and timestamps) with original's baseOffset, lastOffsetDelta (kept even when the last
// record is gone, as Kafka does, so the batch still ends where the producer's did),
// partitionLeaderEpoch, producer id/epoch, baseSequence and attributes (codec included).
// With `delete_horizon_ms` the horizon flag is set and baseTimestamp is the horizon; record
// timestamps stay exact because their deltas are taken from it. maxTimestamp is the largest kept
// record's (original's for LogAppendTime batches). An empty `kept` gives Kafka's empty batch:
// no records, no compression, both timestamps original's maxTimestamp (it keeps the batch's
// offsets in the log). InvalidArgument if kept offsets leave [baseOffset, lastOffset].
absl::StatusOr<std::string> rewrite_batch(const protocol::RecordBatchHeader& original,
                                          const std::vector<protocol::Record>& kept,
                                          std::optional<int64_t> delete_horizon_ms);

}  // namespace gregor::storage

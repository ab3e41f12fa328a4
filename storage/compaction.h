// What a log reports to the log cleaner (how dirty it is) and what one compaction pass takes and
// returns. The pass itself is Log::compact (storage/compaction.cc); scheduling is LogCleaner's.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

namespace gregor::storage {

struct CleanableStats {
  // The cleaner checkpoint clamped to the log (0 if it was past the log end: a stale entry).
  int64_t first_dirty_offset = 0;
  // Cleaning never reaches this: the active segment's base, or the first segment younger than
  // min.compaction.lag.ms.
  int64_t first_uncleanable_offset = 0;
  int64_t clean_bytes = 0;  // cleanable segments wholly below first_dirty_offset
  int64_t dirty_bytes = 0;  // cleanable segments holding offsets at or above it
  // A dirty segment's newest record is older than max.compaction.lag.ms: clean whatever the ratio.
  bool max_lag_exceeded = false;
  // A tombstone's delete horizon has passed since the last pass (known only for passes run by
  // this process): a pass would remove it.
  bool delete_horizon_due = false;

  double dirty_ratio() const {
    int64_t total = clean_bytes + dirty_bytes;
    return total > 0 ? static_cast<double>(dirty_bytes) / static_cast<double>(total) : 0.0;
  }
};

struct CompactOptions {
  int64_t first_dirty_offset = 0;  // from cleaner-offset-checkpoint
  // Bound on the memory of the key -> last offset map built over the dirty range (Kafka's
  // log.cleaner.dedupe.buffer.size): dirty segments are taken whole until the map's keys and
  // entry overhead reach this; the rest waits for the next pass. At least one segment is mapped.
  size_t max_map_bytes = 64u << 20;
  // Checked between batches; a set flag abandons the pass (its .cleaned files are removed).
  const std::atomic<bool>* abort = nullptr;
};

struct CompactionResult {
  bool cleaned = false;       // false: nothing was cleanable (or the pass was abandoned)
  int64_t cleaned_upto = 0;   // the new checkpoint: the first offset not in the offset map
  int64_t bytes_read = 0;     // of the segments rewritten
  int64_t bytes_written = 0;  // of their replacements
  int64_t records_removed = 0;
  int segments_before = 0;
  int segments_after = 0;
};

}  // namespace gregor::storage

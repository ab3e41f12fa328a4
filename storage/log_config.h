// Per-topic log settings, Kafka's topic-level names in comments. Broker defaults come from
// the log.* properties; topic configs override them.
#pragma once

#include <cstdint>
#include <limits>

namespace gregor::storage {

struct LogConfig {
  int64_t segment_bytes = 1LL << 30;               // segment.bytes
  int64_t segment_ms = 7LL * 24 * 3600 * 1000;     // segment.ms
  int32_t segment_index_bytes = 10 * 1024 * 1024;  // segment.index.bytes
  int32_t index_interval_bytes = 4096;             // index.interval.bytes
  int64_t retention_ms = 7LL * 24 * 3600 * 1000;   // retention.ms (-1: unlimited)
  int64_t retention_bytes = -1;                    // retention.bytes (-1: unlimited)
  int64_t flush_interval_messages = std::numeric_limits<int64_t>::max();  // flush.messages
  int64_t flush_interval_ms = std::numeric_limits<int64_t>::max();        // flush.ms
  int32_t max_message_bytes = 1048588;                                    // max.message.bytes
  bool log_append_time = false;          // message.timestamp.type=LogAppendTime
  int64_t file_delete_delay_ms = 60000;  // file.delete.delay.ms
  // Broker-wide producer.id.expiration.ms: idle producers' state is dropped after this.
  int64_t producer_id_expiration_ms = 86400000;
  // Broker-wide gregor.log.page.cache.window.bytes: bytes at the end of each partition's
  // active segment kept in the page cache; older ones are evicted once on disk
  // (storage/page_cache_window.h). 0 (the default) keeps everything, as Kafka does.
  int64_t page_cache_window_bytes = 0;

  // Log compaction (storage/log_cleaner.h). cleanup.policy=compact sets `compact`;
  // compact,delete also keeps retention_ms/retention_bytes in force.
  bool compact = false;                                                 // cleanup.policy
  int64_t delete_retention_ms = 24LL * 3600 * 1000;                     // delete.retention.ms
  double min_cleanable_dirty_ratio = 0.5;                               // min.cleanable.dirty.ratio
  int64_t min_compaction_lag_ms = 0;                                    // min.compaction.lag.ms
  int64_t max_compaction_lag_ms = std::numeric_limits<int64_t>::max();  // max.compaction.lag.ms

  // Broker-wide (log.cleaner.enable, log.cleaner.backoff.ms): only the LogManager's
  // default_config copy is read; they live here so broker defaults reach the LogManager.
  bool cleaner_enable = true;
  int64_t cleaner_backoff_ms = 15000;
};

}  // namespace gregor::storage

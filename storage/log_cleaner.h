// The log cleaner: a background thread, owned by the LogManager, that compacts the logs of
// topics with cleanup.policy=compact (Kafka's LogCleaner with one cleaner thread). It keeps
// each log's cleaned-up-to offset in `cleaner-offset-checkpoint` in the log's log dir.
#pragma once

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "storage/checkpoint_file.h"
#include "storage/log.h"

namespace gregor::storage {

inline constexpr char kCleanerOffsetCheckpoint[] = "cleaner-offset-checkpoint";

struct LogCleanerOptions {
  int64_t backoff_ms = 15000;        // log.cleaner.backoff.ms: sleep when nothing is dirty
  size_t max_map_bytes = 64u << 20;  // offset map bound per pass (see CompactOptions)
};

// A compacted log and where its checkpoint lives.
struct CleanerCandidate {
  TopicPartition tp;
  std::filesystem::path log_dir;
  std::shared_ptr<Log> log;
};

// Thread-safety: clean_once, checkpoint and forget may be called from any thread; passes are
// serialized by `pass_mu_`. The thread only runs between start() and stop().
class LogCleaner {
 public:
  // `list_logs` returns the open logs (the cleaner keeps those whose config says compact).
  LogCleaner(LogCleanerOptions options, std::function<std::vector<CleanerCandidate>()> list_logs);
  ~LogCleaner();  // stop()

  void start();
  // Abandons a pass in progress (its .cleaned files are removed) and joins the thread.
  void stop();

  // Compacts the filthiest eligible log: dirty ratio >= min.cleanable.dirty.ratio, or a dirty
  // segment past max.compaction.lag.ms, or a tombstone past its delete horizon. Returns the
  // partition cleaned, or nullopt if none was eligible; the checkpoint is then rewritten.
  absl::StatusOr<std::optional<TopicPartition>> clean_once();

  // The checkpointed first dirty offset (0 when unknown).
  int64_t checkpoint(const std::filesystem::path& log_dir, const TopicPartition& tp);
  // A partition was deleted: its checkpoint entry goes too.
  void forget(const std::filesystem::path& log_dir, const TopicPartition& tp);

 private:
  void loop();
  OffsetCheckpoint& checkpoints_for(const std::filesystem::path& log_dir)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const LogCleanerOptions options_;
  const std::function<std::vector<CleanerCandidate>()> list_logs_;

  absl::Mutex pass_mu_;  // one pass at a time
  absl::Mutex mu_;       // guards checkpoints_
  std::map<std::filesystem::path, OffsetCheckpoint> checkpoints_ ABSL_GUARDED_BY(mu_);

  absl::Mutex stop_mu_;
  bool stopping_ ABSL_GUARDED_BY(stop_mu_) = false;
  std::atomic<bool> abort_{false};
  std::thread thread_;
};

}  // namespace gregor::storage

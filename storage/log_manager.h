// Owns every partition log on this broker: the log.dirs, the partition directories
// `<topic>-<partition>` in them, clean-shutdown markers and offset checkpoints, the background
// retention/flush scheduler and the group-commit Flusher.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "storage/checkpoint_file.h"
#include "storage/clock.h"
#include "storage/flusher.h"
#include "storage/log.h"
#include "storage/log_cleaner.h"
#include "storage/log_config.h"

namespace gregor::storage {

inline constexpr char kCleanShutdownMarker[] = ".kafka_cleanshutdown";
// KRaft's metadata log: it lives in a log dir but is owned by the metadata layer, which opens
// and recovers it itself, so the LogManager neither lists nor touches it (as in Kafka).
inline constexpr char kClusterMetadataDir[] = "__cluster_metadata-0";

struct LogManagerOptions {
  std::vector<std::filesystem::path> log_dirs;    // log.dirs
  LogConfig default_config;                       // log.* broker defaults
  int64_t retention_check_interval_ms = 300'000;  // log.retention.check.interval.ms
  int64_t flush_scheduler_interval_ms = 1'000;    // log.flush.scheduler.interval.ms
  int64_t checkpoint_interval_ms = 60'000;        // log.flush.offset.checkpoint.interval.ms
  size_t max_pending_flushes = 65536;
  // The log cleaner runs when default_config.cleaner_enable (log.cleaner.enable).
  size_t cleaner_max_map_bytes = 64u << 20;
};

// Thread-safety: every method may be called from any thread. `mu_` guards the maps of open
// logs and partition locations; opening a log (which may recover it) happens under it.
class LogManager {
 public:
  // Creates missing log dirs, takes an exclusive lock on each (`.lock`), notes which had a
  // clean-shutdown marker and removes it (a crash from now on means recovery), reads the
  // checkpoints and lists the partition directories found.
  static absl::StatusOr<std::unique_ptr<LogManager>> open(LogManagerOptions options,
                                                          const Clock* clock);
  // Stops threads but is not a clean shutdown: call shutdown() for that.
  ~LogManager();

  // Opens the partition's log (recovering it if its log dir was not shut down cleanly) or
  // creates it in the log dir holding the fewest partitions. InvalidArgument for a bad topic
  // name or partition.
  absl::StatusOr<std::shared_ptr<Log>> get_or_create(const std::string& topic, int32_t partition,
                                                     const LogConfig& config);
  // nullptr unless open.
  std::shared_ptr<Log> get(const std::string& topic, int32_t partition) const;
  // Closes the log and renames its directory to `<topic>-<partition>.<uuid>-delete`, deleted
  // by the background thread (or at shutdown). NotFound if there is no such partition.
  absl::Status remove(const std::string& topic, int32_t partition);
  // Partition directories found at open() (never kClusterMetadataDir), so the broker can
  // delete orphans.
  std::vector<TopicPartition> on_disk_partitions() const;

  // Starts the thread that applies retention every retention_check_interval_ms, honours
  // flush.ms every flush_scheduler_interval_ms and writes the recovery-point checkpoint.
  void start_background();
  Flusher& flusher() { return *flusher_; }
  // Log compaction; its thread is started by start_background() when log.cleaner.enable.
  LogCleaner& cleaner() { return *cleaner_; }

  // One pass of each background task, for the scheduler thread and for tests.
  int run_retention();
  void run_flush_checks();
  absl::Status write_checkpoints();
  void delete_pending();

  // Stops background work, flushes and closes every log, writes both checkpoint files and
  // the clean-shutdown marker in each log dir. Idempotent.
  absl::Status shutdown();

 private:
  struct LogDir {
    std::filesystem::path path;
    int lock_fd = -1;
    bool clean_at_start = false;
    OffsetCheckpoint recovery_points;  // as read at start; updated as logs change
    OffsetCheckpoint log_starts;
  };
  LogManager(LogManagerOptions options, const Clock* clock);
  void stop_background();
  std::vector<CleanerCandidate> cleaner_candidates() const;
  void background_loop();
  absl::Status write_checkpoints_locked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::StatusOr<std::shared_ptr<Log>> open_on_disk(const TopicPartition& tp, size_t dir,
                                                    const LogConfig& config)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const LogManagerOptions options_;
  const Clock* const clock_;
  std::unique_ptr<Flusher> flusher_;
  std::unique_ptr<LogCleaner> cleaner_;

  mutable absl::Mutex mu_;
  std::vector<LogDir> dirs_ ABSL_GUARDED_BY(mu_);
  std::map<TopicPartition, std::shared_ptr<Log>> logs_ ABSL_GUARDED_BY(mu_);
  std::map<TopicPartition, size_t> locations_ ABSL_GUARDED_BY(mu_);  // index into dirs_
  std::vector<TopicPartition> found_at_start_ ABSL_GUARDED_BY(mu_);
  std::vector<std::filesystem::path> pending_deletes_ ABSL_GUARDED_BY(mu_);
  bool shut_down_ ABSL_GUARDED_BY(mu_) = false;

  absl::Mutex bg_mu_;  // guards stop_background_
  bool stop_background_ ABSL_GUARDED_BY(bg_mu_) = false;
  std::thread background_;
};

// Splits a partition directory name at its last '-': "a-b.c-7" -> {"a-b.c", 7}.
std::optional<TopicPartition> parse_partition_dir(const std::string& name);
// Kafka's legal topic names: 1..249 of [a-zA-Z0-9._-], not "." or "..".
bool valid_topic_name(const std::string& topic);

}  // namespace gregor::storage

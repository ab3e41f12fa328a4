// LogCleaner: picks the filthiest compacted log, runs Log::compact on it and records how far
// it got in the log dir's cleaner-offset-checkpoint.
#include "storage/log_cleaner.h"

#include <chrono>

#include "spdlog/spdlog.h"

namespace gregor::storage {

LogCleaner::LogCleaner(LogCleanerOptions options,
                       std::function<std::vector<CleanerCandidate>()> list_logs)
    : options_(options), list_logs_(std::move(list_logs)) {}

LogCleaner::~LogCleaner() {
  stop();
}

void LogCleaner::start() {
  absl::MutexLock l(&stop_mu_);
  if (thread_.joinable() || stopping_) return;
  thread_ = std::thread([this] { loop(); });
}

void LogCleaner::stop() {
  {
    absl::MutexLock l(&stop_mu_);
    stopping_ = true;
  }
  abort_.store(true);
  if (thread_.joinable()) thread_.join();
}

void LogCleaner::loop() {
  for (;;) {
    auto cleaned = clean_once();
    if (!cleaned.ok() && !absl::IsAborted(cleaned.status())) {
      spdlog::warn("log cleaner: {}", cleaned.status().ToString());
    }
    // After a pass, look again at once: another log may be waiting.
    const bool busy = cleaned.ok() && cleaned->has_value();
    absl::MutexLock l(&stop_mu_);
    stop_mu_.AwaitWithTimeout(absl::Condition(&stopping_),
                              absl::Milliseconds(busy ? 0 : options_.backoff_ms));
    if (stopping_) return;
  }
}

OffsetCheckpoint& LogCleaner::checkpoints_for(const std::filesystem::path& log_dir) {
  auto it = checkpoints_.find(log_dir);
  if (it != checkpoints_.end()) return it->second;
  auto read = read_checkpoint(log_dir / kCleanerOffsetCheckpoint);
  // A bad checkpoint only costs cleaning from the start again.
  if (!read.ok()) spdlog::warn("ignoring {}", read.status().ToString());
  return checkpoints_[log_dir] = read.ok() ? std::move(*read) : OffsetCheckpoint{};
}

int64_t LogCleaner::checkpoint(const std::filesystem::path& log_dir, const TopicPartition& tp) {
  absl::MutexLock l(&mu_);
  const OffsetCheckpoint& c = checkpoints_for(log_dir);
  auto it = c.find(tp);
  return it == c.end() ? 0 : it->second;
}

void LogCleaner::forget(const std::filesystem::path& log_dir, const TopicPartition& tp) {
  absl::MutexLock l(&mu_);
  OffsetCheckpoint& c = checkpoints_for(log_dir);
  if (c.erase(tp) == 0) return;
  absl::Status s = write_checkpoint(log_dir / kCleanerOffsetCheckpoint, c);
  if (!s.ok()) spdlog::warn("writing {}: {}", kCleanerOffsetCheckpoint, s.ToString());
}

absl::StatusOr<std::optional<TopicPartition>> LogCleaner::clean_once() {
  absl::MutexLock pass(&pass_mu_);
  std::optional<CleanerCandidate> best;
  double best_score = -1;
  for (CleanerCandidate& c : list_logs_()) {
    const LogConfig config = c.log->config();
    if (!config.compact) continue;
    CleanableStats st = c.log->cleanable_stats(checkpoint(c.log_dir, c.tp));
    const double ratio = st.dirty_ratio();
    // Logs that must be cleaned (max lag, due tombstones) come before the merely dirty ones.
    double score = -1;
    if (st.dirty_bytes > 0 && st.max_lag_exceeded) {
      score = 2 + ratio;
    } else if (st.delete_horizon_due) {
      score = 1 + ratio;
    } else if (st.dirty_bytes > 0 && ratio >= config.min_cleanable_dirty_ratio) {
      score = ratio;
    }
    if (score > best_score) {
      best_score = score;
      best = std::move(c);
    }
  }
  if (!best || best_score < 0) return std::nullopt;
  CompactOptions o;
  o.first_dirty_offset = checkpoint(best->log_dir, best->tp);
  o.max_map_bytes = options_.max_map_bytes;
  o.abort = &abort_;
  auto result = best->log->compact(o);
  if (!result.ok()) return result.status();
  absl::MutexLock l(&mu_);
  OffsetCheckpoint& c = checkpoints_for(best->log_dir);
  c[best->tp] = result->cleaned_upto;
  absl::Status s = write_checkpoint(best->log_dir / kCleanerOffsetCheckpoint, c);
  if (!s.ok()) return s;
  return result->cleaned ? std::optional<TopicPartition>(best->tp) : std::nullopt;
}

}  // namespace gregor::storage

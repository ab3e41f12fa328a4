// LogManager: log dir locks and markers, partition directory discovery and placement,
// checkpoints, background retention/flush, asynchronous deletion, clean shutdown.
#include "storage/log_manager.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <charconv>
#include <chrono>
#include <random>

#include "absl/strings/str_cat.h"
#include "spdlog/spdlog.h"
#include "storage/file.h"

namespace gregor::storage {

namespace {

bool ends_with(const std::string& s, std::string_view suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

std::string random_hex_uuid() {
  std::random_device rd;
  std::string out;
  const char* hex = "0123456789abcdef";
  for (int i = 0; i < 32; ++i) out.push_back(hex[rd() % 16]);
  return out;
}

std::string dir_name(const TopicPartition& tp) {
  return absl::StrCat(tp.first, "-", tp.second);
}

}  // namespace

std::optional<TopicPartition> parse_partition_dir(const std::string& name) {
  size_t dash = name.rfind('-');
  if (dash == std::string::npos || dash == 0 || dash + 1 == name.size()) return std::nullopt;
  std::string topic = name.substr(0, dash);
  int32_t partition = -1;
  const char* begin = name.data() + dash + 1;
  const char* end = name.data() + name.size();
  auto [ptr, ec] = std::from_chars(begin, end, partition);
  if (ec != std::errc() || ptr != end || partition < 0 || !valid_topic_name(topic)) {
    return std::nullopt;
  }
  return TopicPartition{topic, partition};
}

bool valid_topic_name(const std::string& topic) {
  if (topic.empty() || topic.size() > 249 || topic == "." || topic == "..") return false;
  for (char c : topic) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

LogManager::LogManager(LogManagerOptions options, const Clock* clock)
    : options_(std::move(options)),
      clock_(clock),
      flusher_(std::make_unique<Flusher>(options_.max_pending_flushes)),
      cleaner_(
          std::make_unique<LogCleaner>(LogCleanerOptions{options_.default_config.cleaner_backoff_ms,
                                                         options_.cleaner_max_map_bytes},
                                       [this] { return cleaner_candidates(); })) {}

std::vector<CleanerCandidate> LogManager::cleaner_candidates() const {
  absl::MutexLock l(&mu_);
  std::vector<CleanerCandidate> out;
  for (const auto& [tp, log] : logs_) {
    out.push_back(CleanerCandidate{tp, dirs_[locations_.at(tp)].path, log});
  }
  return out;
}

absl::StatusOr<std::unique_ptr<LogManager>> LogManager::open(LogManagerOptions options,
                                                             const Clock* clock) {
  if (options.log_dirs.empty()) return absl::InvalidArgumentError("log.dirs is empty");
  std::unique_ptr<LogManager> m(new LogManager(std::move(options), clock));
  absl::MutexLock l(&m->mu_);
  for (const auto& path : m->options_.log_dirs) {
    std::error_code ec;
    std::filesystem::create_directories(path, ec);
    if (ec)
      return absl::UnavailableError(
          absl::StrCat("log.dirs: cannot create ", path.string(), ": ", ec.message()));
    LogDir dir;
    dir.path = path;
    // One broker per log dir: a second process would corrupt it.
    std::filesystem::path lock_path = path / ".lock";
    dir.lock_fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (dir.lock_fd < 0) return errno_status("open", lock_path);
    if (::flock(dir.lock_fd, LOCK_EX | LOCK_NB) != 0) {
      ::close(dir.lock_fd);
      return absl::FailedPreconditionError(
          absl::StrCat("log.dirs: ", path.string(), " is in use by another process"));
    }
    std::filesystem::path marker = path / kCleanShutdownMarker;
    dir.clean_at_start = std::filesystem::exists(marker);
    auto rp = read_checkpoint(path / kRecoveryPointCheckpoint);
    auto ls = read_checkpoint(path / kLogStartOffsetCheckpoint);
    // A bad checkpoint only costs a full scan: recovery point 0, start from the segments.
    if (rp.ok())
      dir.recovery_points = std::move(*rp);
    else
      spdlog::warn("ignoring {}", rp.status().ToString());
    if (ls.ok())
      dir.log_starts = std::move(*ls);
    else
      spdlog::warn("ignoring {}", ls.status().ToString());
    if (dir.clean_at_start) {
      std::filesystem::remove(marker, ec);
      absl::Status s = sync_dir(path);
      if (!s.ok()) return s;
    }
    size_t index = m->dirs_.size();
    for (const auto& entry : std::filesystem::directory_iterator(path, ec)) {
      if (!entry.is_directory()) continue;
      std::string name = entry.path().filename().string();
      if (ends_with(name, "-delete")) {
        m->pending_deletes_.push_back(entry.path());
        continue;
      }
      if (ends_with(name, "-future") || ends_with(name, "-stray") || name == kClusterMetadataDir) {
        continue;
      }
      std::optional<TopicPartition> tp = parse_partition_dir(name);
      if (!tp) continue;
      if (m->locations_.contains(*tp)) {
        return absl::FailedPreconditionError(
            absl::StrCat("partition ", name, " found in more than one log dir"));
      }
      m->locations_[*tp] = index;
      m->found_at_start_.push_back(*tp);
    }
    m->dirs_.push_back(std::move(dir));
  }
  return m;
}

LogManager::~LogManager() {
  stop_background();
  flusher_->stop();
  absl::MutexLock l(&mu_);
  for (LogDir& d : dirs_) {
    if (d.lock_fd >= 0) ::close(d.lock_fd);
    d.lock_fd = -1;
  }
}

absl::StatusOr<std::shared_ptr<Log>> LogManager::open_on_disk(const TopicPartition& tp, size_t dir,
                                                              const LogConfig& config) {
  LogOpenOptions o;
  const LogDir& d = dirs_[dir];
  o.recover = !d.clean_at_start;
  if (auto it = d.recovery_points.find(tp); it != d.recovery_points.end())
    o.recovery_point = it->second;
  if (auto it = d.log_starts.find(tp); it != d.log_starts.end()) o.log_start_offset = it->second;
  return Log::open(d.path / dir_name(tp), config, clock_, o);
}

absl::StatusOr<std::shared_ptr<Log>> LogManager::get_or_create(const std::string& topic,
                                                               int32_t partition,
                                                               const LogConfig& config) {
  if (!valid_topic_name(topic)) return absl::InvalidArgumentError("invalid topic name: " + topic);
  if (partition < 0) return absl::InvalidArgumentError("negative partition");
  TopicPartition tp{topic, partition};
  absl::MutexLock l(&mu_);
  if (shut_down_) return absl::UnavailableError("log manager is shut down");
  if (auto it = logs_.find(tp); it != logs_.end()) return it->second;
  size_t dir;
  if (auto it = locations_.find(tp); it != locations_.end()) {
    dir = it->second;
  } else {
    std::vector<size_t> counts(dirs_.size(), 0);
    for (const auto& [p, d] : locations_) ++counts[d];
    dir = 0;
    for (size_t i = 1; i < counts.size(); ++i) {
      if (counts[i] < counts[dir]) dir = i;
    }
    // A new partition must not inherit checkpoints of a deleted namesake.
    dirs_[dir].recovery_points.erase(tp);
    dirs_[dir].log_starts.erase(tp);
    cleaner_->forget(dirs_[dir].path, tp);
  }
  auto log = open_on_disk(tp, dir, config);
  if (!log.ok()) return log.status();
  logs_[tp] = *log;
  locations_[tp] = dir;
  return *log;
}

std::shared_ptr<Log> LogManager::get(const std::string& topic, int32_t partition) const {
  absl::MutexLock l(&mu_);
  auto it = logs_.find(TopicPartition{topic, partition});
  return it == logs_.end() ? nullptr : it->second;
}

absl::Status LogManager::remove(const std::string& topic, int32_t partition) {
  TopicPartition tp{topic, partition};
  absl::MutexLock l(&mu_);
  auto loc = locations_.find(tp);
  if (loc == locations_.end()) return absl::NotFoundError("no partition " + dir_name(tp));
  LogDir& d = dirs_[loc->second];
  cleaner_->forget(d.path, tp);
  if (auto it = logs_.find(tp); it != logs_.end()) {
    absl::Status s = it->second->close();
    if (!s.ok()) spdlog::warn("closing {} before delete: {}", dir_name(tp), s.ToString());
    logs_.erase(it);
  }
  std::filesystem::path from = d.path / dir_name(tp);
  std::filesystem::path to = d.path / absl::StrCat(dir_name(tp), ".", random_hex_uuid(), "-delete");
  std::error_code ec;
  std::filesystem::rename(from, to, ec);
  if (ec && std::filesystem::exists(from)) {
    return absl::UnavailableError(absl::StrCat("rename ", from.string(), ": ", ec.message()));
  }
  d.recovery_points.erase(tp);
  d.log_starts.erase(tp);
  locations_.erase(loc);
  if (!ec) pending_deletes_.push_back(to);
  return sync_dir(d.path);
}

std::vector<TopicPartition> LogManager::on_disk_partitions() const {
  absl::MutexLock l(&mu_);
  return found_at_start_;
}

int LogManager::run_retention() {
  std::vector<std::shared_ptr<Log>> logs;
  {
    absl::MutexLock l(&mu_);
    for (const auto& [tp, log] : logs_) logs.push_back(log);
  }
  int deleted = 0;
  for (const auto& log : logs) {
    // producer.id.expiration.ms is checked on the retention pass, as Kafka's
    // producer.id.expiration.check.interval.ms defaults to a similar period.
    log->expire_producers();
    auto n = log->apply_retention();
    if (n.ok()) {
      deleted += *n;
    } else {
      spdlog::warn("{}: retention failed: {}", log->dir().string(), n.status().ToString());
    }
  }
  return deleted;
}

void LogManager::run_flush_checks() {
  std::vector<std::shared_ptr<Log>> logs;
  {
    absl::MutexLock l(&mu_);
    for (const auto& [tp, log] : logs_) logs.push_back(log);
  }
  for (const auto& log : logs) {
    absl::Status s = log->flush_if_due();
    if (!s.ok()) spdlog::warn("{}: flush failed: {}", log->dir().string(), s.ToString());
  }
}

absl::Status LogManager::write_checkpoints() {
  absl::MutexLock l(&mu_);
  return write_checkpoints_locked();
}

absl::Status LogManager::write_checkpoints_locked() {
  // Open logs report their own offsets; partitions not opened since start keep theirs.
  for (const auto& [tp, log] : logs_) {
    LogDir& d = dirs_[locations_.at(tp)];
    d.recovery_points[tp] = log->flushed_offset();
    d.log_starts[tp] = log->log_start_offset();
  }
  absl::Status result = absl::OkStatus();
  for (const LogDir& d : dirs_) {
    absl::Status s = write_checkpoint(d.path / kRecoveryPointCheckpoint, d.recovery_points);
    if (s.ok()) s = write_checkpoint(d.path / kLogStartOffsetCheckpoint, d.log_starts);
    if (!s.ok() && result.ok()) result = s;
  }
  return result;
}

void LogManager::delete_pending() {
  std::vector<std::filesystem::path> doomed;
  {
    absl::MutexLock l(&mu_);
    doomed.swap(pending_deletes_);
  }
  for (const auto& p : doomed) {
    std::error_code ec;
    std::filesystem::remove_all(p, ec);
    if (ec) spdlog::warn("deleting {}: {}", p.string(), ec.message());
  }
}

void LogManager::start_background() {
  absl::MutexLock l(&bg_mu_);
  if (background_.joinable() || stop_background_) return;
  background_ = std::thread([this] { background_loop(); });
  if (options_.default_config.cleaner_enable) cleaner_->start();
}

void LogManager::background_loop() {
  using Clock = std::chrono::steady_clock;
  auto next_retention =
      Clock::now() + std::chrono::milliseconds(options_.retention_check_interval_ms);
  auto next_flush = Clock::now() + std::chrono::milliseconds(options_.flush_scheduler_interval_ms);
  auto next_checkpoint = Clock::now() + std::chrono::milliseconds(options_.checkpoint_interval_ms);
  for (;;) {
    auto wake = std::min({next_retention, next_flush, next_checkpoint});
    {
      absl::MutexLock l(&bg_mu_);
      auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(wake - Clock::now());
      bg_mu_.AwaitWithTimeout(absl::Condition(&stop_background_),
                              absl::Milliseconds(std::max<int64_t>(0, wait.count())));
      if (stop_background_) return;
    }
    auto now = Clock::now();
    if (now >= next_flush) {
      run_flush_checks();
      next_flush = now + std::chrono::milliseconds(options_.flush_scheduler_interval_ms);
    }
    if (now >= next_retention) {
      run_retention();
      next_retention = now + std::chrono::milliseconds(options_.retention_check_interval_ms);
    }
    if (now >= next_checkpoint) {
      absl::Status s = write_checkpoints();
      if (!s.ok()) spdlog::warn("writing checkpoints: {}", s.ToString());
      next_checkpoint = now + std::chrono::milliseconds(options_.checkpoint_interval_ms);
    }
    delete_pending();
  }
}

void LogManager::stop_background() {
  cleaner_->stop();
  {
    absl::MutexLock l(&bg_mu_);
    stop_background_ = true;
  }
  if (background_.joinable()) background_.join();
}

absl::Status LogManager::shutdown() {
  stop_background();
  flusher_->stop();
  absl::Status result = absl::OkStatus();
  {
    absl::MutexLock l(&mu_);
    if (shut_down_) return absl::OkStatus();
    shut_down_ = true;
    // Partitions never opened since an unclean start were never recovered: do it now, or
    // the marker below would make the next start trust them.
    for (const auto& [tp, dir] : locations_) {
      if (logs_.contains(tp) || dirs_[dir].clean_at_start) continue;
      auto log = open_on_disk(tp, dir, options_.default_config);
      if (log.ok()) {
        logs_[tp] = *log;
      } else if (result.ok()) {
        result = log.status();
      }
    }
    for (const auto& [tp, log] : logs_) {
      absl::Status s = log->close();
      if (!s.ok() && result.ok()) result = s;
    }
    absl::Status s = write_checkpoints_locked();
    if (!s.ok() && result.ok()) result = s;
  }
  delete_pending();
  if (!result.ok()) return result;  // no marker: the next start recovers
  absl::MutexLock l(&mu_);
  for (const LogDir& d : dirs_) {
    absl::Status s = write_file_atomically(d.path / kCleanShutdownMarker, "");
    if (!s.ok() && result.ok()) result = s;
  }
  return result;
}

}  // namespace gregor::storage

// Flusher: per-log queues of flush requests, served by a small pool of sync threads.
#include "storage/flusher.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"

namespace gregor::storage {

Flusher::Flusher(size_t max_pending, int sync_threads, SyncFn sync)
    : max_pending_(max_pending),
      sync_(sync ? std::move(sync) : [](Log& log) { return log.flush(); }) {
  for (int i = 0; i < std::max(1, sync_threads); ++i) workers_.emplace_back([this] { worker(); });
}

Flusher::~Flusher() {
  stop();
}

void Flusher::request(std::shared_ptr<Log> log, int64_t offset,
                      std::function<void(absl::Status)> done) {
  absl::Status rejected;
  {
    absl::MutexLock l(&mu_);
    if (stopping_) {
      rejected = absl::UnavailableError("flusher stopped");
    } else if (pending_ >= max_pending_) {
      rejected = absl::ResourceExhaustedError("too many pending flush requests");
    } else {
      Log* key = log.get();
      LogQueue& q = queues_[key];
      if (q.log == nullptr) q.log = std::move(log);
      // A log under sync goes back to ready_ when that sync ends; one that already waits is
      // in ready_ once.
      if (!q.syncing && q.waiting.empty()) ready_.push_back(key);
      q.waiting.push_back(Request{offset, std::move(done)});
      ++pending_;
      return;
    }
  }
  done(rejected);
}

void Flusher::stop() {
  {
    absl::MutexLock l(&mu_);
    stopping_ = true;
  }
  for (std::thread& w : workers_) {
    if (w.joinable()) w.join();
  }
}

int64_t Flusher::flushes() const {
  absl::MutexLock l(&mu_);
  return flushes_;
}

int64_t Flusher::completed() const {
  absl::MutexLock l(&mu_);
  return completed_;
}

void Flusher::worker() {
  absl::MutexLock l(&mu_);
  for (;;) {
    mu_.Await(absl::Condition(
        +[](Flusher* f) ABSL_EXCLUSIVE_LOCKS_REQUIRED(f->mu_) {
          return !f->ready_.empty() || (f->stopping_ && f->pending_ == 0);
        },
        this));
    if (ready_.empty()) return;  // stopping, and every request has been answered
    Log* key = ready_.front();
    ready_.pop_front();
    LogQueue& q = queues_.at(key);
    q.syncing = true;
    std::vector<Request> requests = std::exchange(q.waiting, {});
    mu_.Unlock();
    serve(key, std::move(requests));
    mu_.Lock();
    LogQueue& after = queues_.at(key);
    after.syncing = false;
    if (!after.waiting.empty()) {
      ready_.push_back(key);  // requests that came during the sync take the next one
    } else {
      queues_.erase(key);
    }
  }
}

void Flusher::serve(Log* log, std::vector<Request> requests) {
  // Requests that arrived while an earlier sync of this log ran may be covered by it already.
  bool covered = std::all_of(requests.begin(), requests.end(),
                             [&](const Request& r) { return log->flushed_offset() > r.offset; });
  absl::Status status = covered ? absl::OkStatus() : sync_(*log);
  std::vector<absl::Status> results;
  results.reserve(requests.size());
  for (const Request& r : requests) {
    absl::Status s = status;
    if (s.ok() && log->flushed_offset() <= r.offset) {
      s = absl::FailedPreconditionError(absl::StrCat(
          "offset ", r.offset, " is not in the log (end ", log->log_end_offset(), ")"));
    }
    results.push_back(std::move(s));
  }
  {
    // Counted before the callbacks run, so a caller woken by one sees consistent numbers.
    absl::MutexLock l(&mu_);
    flushes_ += covered ? 0 : 1;
    completed_ += static_cast<int64_t>(requests.size());
    pending_ -= requests.size();
  }
  for (size_t i = 0; i < requests.size(); ++i) requests[i].done(std::move(results[i]));
}

}  // namespace gregor::storage

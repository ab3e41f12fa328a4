// Flusher: drain everything queued, flush each distinct log once, complete all requests.
#include "storage/flusher.h"

#include <unordered_map>
#include <vector>

#include "absl/strings/str_cat.h"

namespace gregor::storage {

Flusher::Flusher(size_t max_pending, int sync_threads) : max_pending_(max_pending) {
  for (int i = 1; i < sync_threads; ++i) workers_.emplace_back([this] { sync_worker(); });
  thread_ = std::thread([this] { run(); });
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
    } else if (pending_.size() >= max_pending_) {
      rejected = absl::ResourceExhaustedError("too many pending flush requests");
    } else {
      pending_.push_back(Request{std::move(log), offset, std::move(done)});
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
  if (thread_.joinable()) thread_.join();
  {
    absl::MutexLock l(&round_mu_);
    workers_stop_ = true;
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

void Flusher::run() {
  for (;;) {
    std::deque<Request> batch;
    {
      absl::MutexLock l(&mu_);
      mu_.Await(absl::Condition(
          +[](Flusher* f) ABSL_EXCLUSIVE_LOCKS_REQUIRED(f->mu_) {
            return !f->pending_.empty() || f->stopping_;
          },
          this));
      if (pending_.empty()) return;  // stopping, and nothing left to do
      batch.swap(pending_);
    }
    // Requests that arrive while these fsyncs run queue up and share the next round.
    std::vector<Log*> logs;
    std::unordered_map<Log*, absl::Status> flushed;
    for (const Request& r : batch) {
      if (r.log->flushed_offset() > r.offset || flushed.contains(r.log.get())) continue;
      flushed[r.log.get()] = absl::OkStatus();
      logs.push_back(r.log.get());
    }
    std::vector<absl::Status> statuses = flush_all(logs);
    for (size_t i = 0; i < logs.size(); ++i) flushed[logs[i]] = std::move(statuses[i]);
    const int64_t rounds = static_cast<int64_t>(logs.size());
    std::vector<absl::Status> results;
    results.reserve(batch.size());
    for (const Request& r : batch) {
      auto it = flushed.find(r.log.get());
      absl::Status s = it == flushed.end() ? absl::OkStatus() : it->second;
      if (s.ok() && r.log->flushed_offset() <= r.offset) {
        s = absl::FailedPreconditionError(absl::StrCat(
            "offset ", r.offset, " is not in the log (end ", r.log->log_end_offset(), ")"));
      }
      results.push_back(std::move(s));
    }
    {
      // Counted before the callbacks run, so a caller woken by one sees consistent numbers.
      absl::MutexLock l(&mu_);
      flushes_ += rounds;
      completed_ += static_cast<int64_t>(batch.size());
    }
    for (size_t i = 0; i < batch.size(); ++i) batch[i].done(std::move(results[i]));
  }
}

std::vector<absl::Status> Flusher::flush_all(const std::vector<Log*>& logs) {
  std::vector<absl::Status> results(logs.size());
  if (logs.size() <= 1 || workers_.empty()) {
    for (size_t i = 0; i < logs.size(); ++i) results[i] = logs[i]->flush();
    return results;
  }
  absl::MutexLock l(&round_mu_);
  round_logs_ = &logs;
  round_results_ = &results;
  round_next_ = 0;
  round_done_ = 0;
  // Take logs like the workers do, then wait for the ones they took.
  while (round_next_ < logs.size()) {
    const size_t i = round_next_++;
    round_mu_.Unlock();
    absl::Status s = logs[i]->flush();
    round_mu_.Lock();
    results[i] = std::move(s);
    ++round_done_;
  }
  round_mu_.Await(absl::Condition(
      +[](Flusher* f) ABSL_EXCLUSIVE_LOCKS_REQUIRED(f->round_mu_) {
        return f->round_done_ == f->round_logs_->size();
      },
      this));
  round_logs_ = nullptr;
  round_results_ = nullptr;
  return results;
}

void Flusher::sync_worker() {
  absl::MutexLock l(&round_mu_);
  for (;;) {
    round_mu_.Await(absl::Condition(
        +[](Flusher* f) ABSL_EXCLUSIVE_LOCKS_REQUIRED(f->round_mu_) {
          return f->workers_stop_ ||
                 (f->round_logs_ != nullptr && f->round_next_ < f->round_logs_->size());
        },
        this));
    if (workers_stop_) return;
    const size_t i = round_next_++;
    Log* log = (*round_logs_)[i];
    round_mu_.Unlock();
    absl::Status s = log->flush();
    round_mu_.Lock();
    (*round_results_)[i] = std::move(s);
    ++round_done_;
  }
}

}  // namespace gregor::storage

// Flusher: drain everything queued, flush each distinct log once, complete all requests.
#include "storage/flusher.h"

#include <unordered_map>
#include <vector>

#include "absl/strings/str_cat.h"

namespace gregor::storage {

Flusher::Flusher(size_t max_pending) : max_pending_(max_pending) {
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
    std::unordered_map<Log*, absl::Status> flushed;
    int64_t rounds = 0;
    for (const Request& r : batch) {
      if (r.log->flushed_offset() > r.offset || flushed.contains(r.log.get())) continue;
      flushed[r.log.get()] = r.log->flush();
      ++rounds;
    }
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

}  // namespace gregor::storage

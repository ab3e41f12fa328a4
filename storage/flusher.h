// Group commit for acks=all: produce handlers ask for "offset N of this log is on disk" and
// a few background threads answer many such requests with one fdatasync per log, the way
// Redpanda batches its flushes. Each log is scheduled on its own: a request waits only for
// the sync of its own log that is under way (if any) and then the next one, never for the
// slowest log of a shared round. That matters for idempotent producers, which keep at most
// five requests in flight per connection and, with librdkafka, one partition per request.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <thread>
#include <unordered_map>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "storage/log.h"

namespace gregor::storage {

// Owned by the LogManager. Thread-safety: request() may be called from any thread; callbacks
// run on one of the flusher's threads (or inline on the caller's thread when rejected), so
// they must be short and must not call back into the Flusher.
class Flusher {
 public:
  // How one log is made durable; Log::flush unless a test slows or counts it.
  using SyncFn = std::function<absl::Status(Log&)>;

  // Requests beyond max_pending are rejected with ResourceExhausted. Up to `sync_threads`
  // logs are synced at once; one log is never synced by two threads at once.
  explicit Flusher(size_t max_pending = 65536, int sync_threads = 4, SyncFn sync = {});
  ~Flusher();  // stop()
  Flusher(const Flusher&) = delete;
  Flusher& operator=(const Flusher&) = delete;

  // Calls done(OK) once log->flushed_offset() > offset; done(error) if the flush failed,
  // the queue is full or the flusher is stopped. REQUIRES: offset < log->log_end_offset().
  void request(std::shared_ptr<Log> log, int64_t offset, std::function<void(absl::Status)> done);

  // Flushes and completes everything pending, then ends the threads; later requests are
  // rejected with Unavailable. Idempotent.
  void stop();

  // Log::flush() calls made so far (each one fdatasync covering many requests).
  int64_t flushes() const;
  int64_t completed() const;

 private:
  struct Request {
    int64_t offset;
    std::function<void(absl::Status)> done;
  };
  // The requests of one log that wait for its next sync.
  struct LogQueue {
    std::shared_ptr<Log> log;
    std::vector<Request> waiting;
    bool syncing = false;
  };
  void worker();
  // Syncs `log` unless every request is already covered, then answers them all.
  void serve(Log* log, std::vector<Request> requests);

  const size_t max_pending_;
  const SyncFn sync_;
  mutable absl::Mutex mu_;
  std::unordered_map<Log*, LogQueue> queues_ ABSL_GUARDED_BY(mu_);
  std::deque<Log*> ready_ ABSL_GUARDED_BY(mu_);  // logs with waiting requests, not syncing
  size_t pending_ ABSL_GUARDED_BY(mu_) = 0;      // requests not yet answered
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  int64_t flushes_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t completed_ ABSL_GUARDED_BY(mu_) = 0;
  std::vector<std::thread> workers_;
};

}  // namespace gregor::storage

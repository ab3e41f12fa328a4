// Group commit for acks=all: produce handlers ask for "offset N of this log is on disk" and
// one background thread answers many such requests with one fdatasync per log, the way
// Redpanda batches its flushes.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "storage/log.h"

namespace gregor::storage {

// Owned by the LogManager. Thread-safety: request() may be called from any thread; callbacks
// run on the flusher's thread (or inline on the caller's thread when rejected), so they must
// be short and must not call back into the Flusher.
class Flusher {
 public:
  // Requests beyond max_pending are rejected with ResourceExhausted.
  explicit Flusher(size_t max_pending = 65536);
  ~Flusher();  // stop()
  Flusher(const Flusher&) = delete;
  Flusher& operator=(const Flusher&) = delete;

  // Calls done(OK) once log->flushed_offset() > offset; done(error) if the flush failed,
  // the queue is full or the flusher is stopped. REQUIRES: offset < log->log_end_offset().
  void request(std::shared_ptr<Log> log, int64_t offset, std::function<void(absl::Status)> done);

  // Flushes and completes everything pending, then ends the thread; later requests are
  // rejected with Unavailable. Idempotent.
  void stop();

  // Log::flush() calls made so far (each one fdatasync round covering many requests).
  int64_t flushes() const;
  int64_t completed() const;

 private:
  struct Request {
    std::shared_ptr<Log> log;
    int64_t offset;
    std::function<void(absl::Status)> done;
  };
  void run();

  const size_t max_pending_;
  mutable absl::Mutex mu_;  // guards the queue and the counters
  std::deque<Request> pending_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  int64_t flushes_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t completed_ ABSL_GUARDED_BY(mu_) = 0;
  std::thread thread_;
};

}  // namespace gregor::storage

// Group commit for acks=all: produce handlers ask for "offset N of this log is on disk" and
// one background thread answers many such requests with one fdatasync per log, the way
// Redpanda batches its flushes. The logs of one round are synced in parallel by a few helper
// threads: a producer writing to several partitions waits for all of them, and concurrent
// fdatasyncs let the filesystem share journal commits and device cache flushes.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <thread>
#include <vector>

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
  // Requests beyond max_pending are rejected with ResourceExhausted. `sync_threads` logs of a
  // round are synced at once (the flusher thread is one of them).
  explicit Flusher(size_t max_pending = 65536, int sync_threads = 4);
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
  // fdatasync each log once, up to sync_threads_ at a time; results in the same order.
  std::vector<absl::Status> flush_all(const std::vector<Log*>& logs);
  void sync_worker();

  const size_t max_pending_;
  mutable absl::Mutex mu_;  // guards the queue and the counters
  std::deque<Request> pending_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  int64_t flushes_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t completed_ ABSL_GUARDED_BY(mu_) = 0;
  std::thread thread_;

  // One round's logs, handed to the sync workers; the flusher thread takes a share too.
  absl::Mutex round_mu_;
  const std::vector<Log*>* round_logs_ ABSL_GUARDED_BY(round_mu_) = nullptr;
  std::vector<absl::Status>* round_results_ ABSL_GUARDED_BY(round_mu_) = nullptr;
  size_t round_next_ ABSL_GUARDED_BY(round_mu_) = 0;  // the next log to take
  size_t round_done_ ABSL_GUARDED_BY(round_mu_) = 0;
  bool workers_stop_ ABSL_GUARDED_BY(round_mu_) = false;
  std::vector<std::thread> workers_;
};

}  // namespace gregor::storage

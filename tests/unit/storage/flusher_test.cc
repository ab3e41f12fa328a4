// Flusher: group commit completes many concurrent requests with few fdatasync rounds.
#include "storage/flusher.h"

#include <atomic>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "gtest/gtest.h"
#include "storage_test_util.h"

namespace gregor::storage {
namespace {

using testing::make_batch;
using testing::TempDir;

class FlusherTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto log = Log::open(tmp_.path() / "t-0", LogConfig{}, &clock_, false);
    ASSERT_TRUE(log.ok());
    log_ = *log;
  }
  TempDir tmp_;
  FakeClock clock_;
  std::shared_ptr<Log> log_;
};

TEST_F(FlusherTest, ManyConcurrentRequestsShareFsyncs) {
  Flusher flusher;
  constexpr int kThreads = 8, kPerThread = 50;
  absl::Mutex mu;
  int done = 0, failed = 0;
  std::atomic<bool> durable_before_done{true};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kPerThread; ++i) {
        std::string b = make_batch(1, 1);
        auto info = log_->append(b);
        ASSERT_TRUE(info.ok());
        int64_t offset = info->last_offset;
        flusher.request(log_, offset, [&, offset](absl::Status s) {
          if (log_->flushed_offset() <= offset) durable_before_done = false;
          absl::MutexLock l(&mu);
          ++done;
          if (!s.ok()) ++failed;
        });
      }
    });
  }
  for (auto& t : threads) t.join();
  {
    absl::MutexLock l(&mu);
    ASSERT_TRUE(mu.AwaitWithTimeout(absl::Condition(
                                        +[](int* d) { return *d == kThreads * kPerThread; }, &done),
                                    absl::Seconds(30)));
    EXPECT_EQ(failed, 0);
  }
  EXPECT_TRUE(durable_before_done);
  EXPECT_EQ(flusher.completed(), kThreads * kPerThread);
  EXPECT_LT(flusher.flushes(), kThreads * kPerThread);
  EXPECT_GE(flusher.flushes(), 1);
  EXPECT_EQ(log_->flushed_offset(), kThreads * kPerThread);
}

TEST_F(FlusherTest, StopCompletesPendingAndRejectsLater) {
  Flusher flusher;
  std::string b = make_batch(3, 1);
  ASSERT_TRUE(log_->append(b).ok());
  std::atomic<int> ok{0};
  for (int i = 0; i < 3; ++i) {
    flusher.request(log_, i, [&](absl::Status s) { ok += s.ok(); });
  }
  flusher.stop();
  EXPECT_EQ(ok.load(), 3);
  absl::Status late;
  flusher.request(log_, 0, [&](absl::Status s) { late = s; });
  EXPECT_TRUE(absl::IsUnavailable(late));
}

TEST_F(FlusherTest, OffsetBeyondTheLogFails) {
  Flusher flusher;
  absl::Mutex mu;
  bool called = false;
  absl::Status got;
  flusher.request(log_, 10, [&](absl::Status s) {
    absl::MutexLock l(&mu);
    got = s;
    called = true;
  });
  absl::MutexLock l(&mu);
  ASSERT_TRUE(mu.AwaitWithTimeout(absl::Condition(&called), absl::Seconds(10)));
  EXPECT_TRUE(absl::IsFailedPrecondition(got)) << got;
}

TEST_F(FlusherTest, ManyLogsOfOneRoundAreAllSyncedAndAnsweredOnce) {
  // More logs than sync threads, several requests each, from one round or a few.
  for (int sync_threads : {1, 3}) {
    Flusher flusher(/*max_pending=*/65536, sync_threads);
    std::vector<std::shared_ptr<Log>> logs;
    for (int i = 0; i < 7; ++i) {
      auto log =
          Log::open(tmp_.path() / ("m" + std::to_string(sync_threads) + "-" + std::to_string(i)),
                    LogConfig{}, &clock_, false);
      ASSERT_TRUE(log.ok());
      std::string b = make_batch(2, 1);
      ASSERT_TRUE((*log)->append(b).ok());
      logs.push_back(*log);
    }
    absl::Mutex mu;
    int answered = 0, ok = 0;
    for (const auto& log : logs) {
      for (int64_t offset : {0, 1}) {
        flusher.request(log, offset, [&, log, offset](absl::Status s) {
          absl::MutexLock l(&mu);
          ++answered;
          ok += s.ok() && log->flushed_offset() > offset;
        });
      }
    }
    absl::MutexLock l(&mu);
    ASSERT_TRUE(mu.AwaitWithTimeout(absl::Condition(
                                        +[](int* n) { return *n == 14; }, &answered),
                                    absl::Seconds(10)));
    EXPECT_EQ(ok, 14) << "sync threads " << sync_threads;
    for (const auto& log : logs) EXPECT_EQ(log->flush_count(), 1);
  }
}

// Waits up to 10 s for `n` to reach `want`.
bool reaches(absl::Mutex& mu, const int& n, int want) {
  struct Goal {
    const int* n;
    int want;
  } goal{&n, want};
  absl::MutexLock l(&mu);
  return mu.AwaitWithTimeout(absl::Condition(
                                 +[](Goal* g) { return *g->n >= g->want; }, &goal),
                             absl::Seconds(10));
}

TEST_F(FlusherTest, ASlowLogDoesNotHoldRequestsOfAnotherLog) {
  auto other = Log::open(tmp_.path() / "t-1", LogConfig{}, &clock_, false);
  ASSERT_TRUE(other.ok());
  absl::Notification slow_started, release_slow;
  Flusher flusher(/*max_pending=*/65536, /*sync_threads=*/2, [&](Log& log) {
    if (&log == log_.get() && !slow_started.HasBeenNotified()) {
      slow_started.Notify();
      release_slow.WaitForNotificationWithTimeout(absl::Seconds(30));
    }
    return log.flush();
  });
  for (Log* log : {log_.get(), other->get()}) {
    std::string b = make_batch(1, 1);
    ASSERT_TRUE(log->append(b).ok());
  }
  absl::Mutex mu;
  int slow_done = 0, fast_done = 0;
  flusher.request(log_, 0, [&](absl::Status s) {
    EXPECT_TRUE(s.ok()) << s;
    absl::MutexLock l(&mu);
    ++slow_done;
  });
  ASSERT_TRUE(slow_started.WaitForNotificationWithTimeout(absl::Seconds(10)));
  flusher.request(*other, 0, [&](absl::Status s) {
    EXPECT_TRUE(s.ok()) << s;
    absl::MutexLock l(&mu);
    ++fast_done;
  });
  EXPECT_TRUE(reaches(mu, fast_done, 1)) << "the other log waited for the slow one";
  {
    absl::MutexLock l(&mu);
    EXPECT_EQ(slow_done, 0);
  }
  EXPECT_GT((*other)->flushed_offset(), 0);
  release_slow.Notify();
  EXPECT_TRUE(reaches(mu, slow_done, 1));
  EXPECT_GT(log_->flushed_offset(), 0);
}

TEST_F(FlusherTest, OneLogIsNeverSyncedByTwoThreadsAtOnce) {
  std::atomic<int> in_sync{0}, overlaps{0}, syncs{0};
  absl::Notification first_started, release_first;
  Flusher flusher(/*max_pending=*/65536, /*sync_threads=*/4, [&](Log& log) {
    if (in_sync.fetch_add(1) != 0) ++overlaps;
    if (syncs.fetch_add(1) == 0) {
      first_started.Notify();
      release_first.WaitForNotificationWithTimeout(absl::Seconds(30));
    }
    absl::Status s = log.flush();
    in_sync.fetch_sub(1);
    return s;
  });
  absl::Mutex mu;
  int done = 0, ok = 0;
  auto append_and_request = [&] {
    std::string b = make_batch(1, 1);
    auto info = log_->append(b);
    ASSERT_TRUE(info.ok());
    int64_t offset = info->last_offset;
    flusher.request(log_, offset, [&, offset](absl::Status s) {
      absl::MutexLock l(&mu);
      ++done;
      ok += s.ok() && log_->flushed_offset() > offset;
    });
  };
  append_and_request();
  ASSERT_TRUE(first_started.WaitForNotificationWithTimeout(absl::Seconds(10)));
  // Requests that arrive while the first sync is held wait for it and the next one: the three
  // idle threads must not start a second sync of the same log meanwhile.
  for (int i = 0; i < 20; ++i) append_and_request();
  absl::SleepFor(absl::Milliseconds(50));
  {
    absl::MutexLock l(&mu);
    EXPECT_EQ(done, 0);
  }
  release_first.Notify();
  EXPECT_TRUE(reaches(mu, done, 21));
  absl::MutexLock l(&mu);
  EXPECT_EQ(ok, 21);
  EXPECT_EQ(overlaps.load(), 0);
  EXPECT_LE(syncs.load(), 2);
}

TEST_F(FlusherTest, BoundedQueue) {
  Flusher flusher(/*max_pending=*/0);
  absl::Status got;
  flusher.request(log_, 0, [&](absl::Status s) { got = s; });
  EXPECT_TRUE(absl::IsResourceExhausted(got));
}

}  // namespace
}  // namespace gregor::storage

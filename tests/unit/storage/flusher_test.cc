// Flusher: group commit completes many concurrent requests with few fdatasync rounds.
#include "storage/flusher.h"

#include <atomic>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"
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

TEST_F(FlusherTest, BoundedQueue) {
  Flusher flusher(/*max_pending=*/0);
  absl::Status got;
  flusher.request(log_, 0, [&](absl::Status s) { got = s; });
  EXPECT_TRUE(absl::IsResourceExhausted(got));
}

}  // namespace
}  // namespace gregor::storage

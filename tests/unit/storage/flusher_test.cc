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

TEST_F(FlusherTest, BoundedQueue) {
  Flusher flusher(/*max_pending=*/0);
  absl::Status got;
  flusher.request(log_, 0, [&](absl::Status s) { got = s; });
  EXPECT_TRUE(absl::IsResourceExhausted(got));
}

}  // namespace
}  // namespace gregor::storage

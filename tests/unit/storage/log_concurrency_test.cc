// Readers, an appender and retention running at once: every read returns whole, valid batches
// holding the requested offset, or OutOfRange once retention has moved the start past it.
#include <atomic>
#include <chrono>
#include <random>
#include <thread>

#include "gtest/gtest.h"
#include "storage/log.h"
#include "storage_test_util.h"

namespace gregor::storage {
namespace {

using testing::headers_of;
using testing::make_batch;
using testing::read_slice;
using testing::TempDir;

TEST(LogConcurrencyTest, ReadsDuringAppendsRollsAndRetention) {
  TempDir tmp;
  FakeClock clock;
  LogConfig config;
  config.segment_bytes = 2000;
  config.index_interval_bytes = 200;
  config.retention_bytes = 20000;
  auto opened = Log::open(tmp.path() / "t-0", config, &clock, false);
  ASSERT_TRUE(opened.ok());
  std::shared_ptr<Log> log = *opened;
  std::atomic<bool> stop{false};
  std::atomic<int64_t> reads{0}, bad{0};

  auto reader = [&](int seed) {
    std::mt19937 rng(seed);
    while (!stop) {
      int64_t start = log->log_start_offset(), end = log->log_end_offset();
      if (end == start) continue;
      int64_t off = start + static_cast<int64_t>(rng() % static_cast<uint64_t>(end - start));
      auto r = log->read(off, 1000, true);
      if (!r.ok()) {
        if (!absl::IsOutOfRange(r.status())) ++bad;
        continue;
      }
      if (r->slices.empty()) {
        ++bad;
        continue;
      }
      auto hs = headers_of(read_slice(r->slices[0]));
      if (hs.empty() || hs[0].base_offset > off || hs[0].last_offset() < off) ++bad;
      ++reads;
    }
  };
  std::thread r1(reader, 1), r2(reader, 2);
  std::thread cleaner([&] {
    while (!stop) ASSERT_TRUE(log->apply_retention().ok());
  });
  for (int i = 0; i < 1500; ++i) {
    std::string b = make_batch(1 + i % 4, i);
    ASSERT_TRUE(log->append(b).ok());
  }
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (reads < 1000 && std::chrono::steady_clock::now() < deadline) std::this_thread::yield();
  stop = true;
  r1.join();
  r2.join();
  cleaner.join();
  EXPECT_EQ(bad.load(), 0);
  EXPECT_GT(log->log_start_offset(), 0);
  EXPECT_LE(log->size_bytes(), 20000 + 2000);
}

}  // namespace
}  // namespace gregor::storage

// Log recovery: torn tails, CRC damage, lost indexes, corruption in an older segment, recovery
// point, and the clean-shutdown path that trusts the indexes without scanning.
#include <fstream>

#include "gtest/gtest.h"
#include "storage/log.h"
#include "storage/segment.h"
#include "storage_test_util.h"

namespace gregor::storage {
namespace {

using testing::headers_of;
using testing::make_batch;
using testing::read_slice;
using testing::TempDir;

class LogRecoveryTest : public ::testing::Test {
 protected:
  void SetUp() override { config_.index_interval_bytes = 100; }
  std::filesystem::path dir() const { return tmp_.path() / "t.x-y-3"; }
  std::filesystem::path file(int64_t base, const char* ext) const {
    return dir() / (segment_file_stem(base) + ext);
  }
  std::shared_ptr<Log> open_log(bool recover, int64_t recovery_point = 0) {
    LogOpenOptions o;
    o.recover = recover;
    o.recovery_point = recovery_point;
    auto log = Log::open(dir(), config_, &clock_, o);
    EXPECT_TRUE(log.ok()) << log.status();
    return log.ok() ? *log : nullptr;
  }
  // Appends `n` 2-record batches; returns the byte size of each.
  std::vector<size_t> fill(Log& log, int n) {
    std::vector<size_t> sizes;
    for (int i = 0; i < n; ++i) {
      std::string b = make_batch(2, 1000 + i);
      sizes.push_back(b.size());
      EXPECT_TRUE(log.append(b).ok());
    }
    return sizes;
  }
  void expect_readable(Log& log) {
    for (int64_t off = log.log_start_offset(); off < log.log_end_offset(); ++off) {
      auto r = log.read(off, 1 << 20, true);
      ASSERT_TRUE(r.ok()) << r.status();
      ASSERT_EQ(r->slices.size(), 1u) << off;
      auto hs = headers_of(read_slice(r->slices[0]));
      ASSERT_FALSE(hs.empty());
      EXPECT_LE(hs[0].base_offset, off);
      EXPECT_GE(hs[0].last_offset(), off);
    }
  }
  void flip_byte(const std::filesystem::path& p, int64_t pos) {
    std::fstream f(p, std::ios::in | std::ios::out | std::ios::binary);
    f.seekg(pos);
    char c;
    f.get(c);
    f.seekp(pos);
    f.put(static_cast<char>(c ^ 0x5a));
  }

  TempDir tmp_;
  FakeClock clock_;
  LogConfig config_;
};

TEST_F(LogRecoveryTest, TornWriteIsTruncatedAndIndexesRebuilt) {
  {
    auto log = open_log(false);
    fill(*log, 20);
  }  // dropped without close(): like a crash
  auto log_size = std::filesystem::file_size(file(0, ".log"));
  std::filesystem::resize_file(file(0, ".log"), log_size - 10);  // cut mid-batch
  {
    std::ofstream idx(file(0, ".index"), std::ios::binary | std::ios::trunc);
    idx << "garbage!garbage!xyz";
  }
  std::filesystem::remove(file(0, ".timeindex"));

  auto log = open_log(true);
  EXPECT_EQ(log->recovered_batches(), 19);
  EXPECT_EQ(log->log_end_offset(), 38);
  EXPECT_LT(std::filesystem::file_size(file(0, ".log")), log_size - 10);
  EXPECT_TRUE(std::filesystem::exists(file(0, ".timeindex")));
  expect_readable(*log);
  EXPECT_EQ(log->offset_for_timestamp(1010), (std::pair<int64_t, int64_t>{19, 1010}));
  std::string b = make_batch(1, 5000);
  auto info = log->append(b);
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->base_offset, 38);
  ASSERT_TRUE(log->close().ok());
  // The rebuilt index is trimmed, sparse and trusted by a clean open.
  EXPECT_EQ(std::filesystem::file_size(file(0, ".index")) % 8, 0u);
  EXPECT_GT(std::filesystem::file_size(file(0, ".index")), 0u);
  auto again = open_log(false);
  EXPECT_EQ(again->recovered_batches(), 0);
  EXPECT_EQ(again->log_end_offset(), 39);
  expect_readable(*again);
}

TEST_F(LogRecoveryTest, FlippedByteInLastBatchFailsCrc) {
  std::vector<size_t> sizes;
  {
    auto log = open_log(false);
    sizes = fill(*log, 10);
  }
  auto log_size = std::filesystem::file_size(file(0, ".log"));
  flip_byte(file(0, ".log"), static_cast<int64_t>(log_size) - 3);  // inside the last record
  auto log = open_log(true);
  EXPECT_EQ(log->log_end_offset(), 18);
  EXPECT_EQ(std::filesystem::file_size(file(0, ".log")), log_size - sizes.back());
  expect_readable(*log);
}

TEST_F(LogRecoveryTest, CorruptionInOlderSegmentDropsLaterSegments) {
  config_.segment_bytes = 500;
  std::vector<size_t> sizes;
  {
    auto log = open_log(false);
    sizes = fill(*log, 20);
    ASSERT_GE(log->segment_base_offsets().size(), 3u);
  }
  flip_byte(file(0, ".log"), static_cast<int64_t>(sizes[0]) + 65);  // second batch's records
  auto log = open_log(true);
  EXPECT_EQ(log->segment_base_offsets(), (std::vector<int64_t>{0}));
  EXPECT_EQ(log->log_end_offset(), 2);
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir()), {}), 3);
  expect_readable(*log);
}

TEST_F(LogRecoveryTest, CleanReopenDoesNotScan) {
  {
    auto log = open_log(false);
    fill(*log, 30);
    ASSERT_TRUE(log->close().ok());
  }
  auto log = open_log(false);
  EXPECT_EQ(log->recovered_batches(), 0);
  EXPECT_EQ(log->log_end_offset(), 60);
  EXPECT_EQ(log->max_timestamp_offset(), (std::pair<int64_t, int64_t>{59, 1030}));
  EXPECT_EQ(log->offset_for_timestamp(1015), (std::pair<int64_t, int64_t>{29, 1015}));
  expect_readable(*log);
  std::string b = make_batch(1, 1);
  EXPECT_EQ(log->append(b)->base_offset, 60);
}

TEST_F(LogRecoveryTest, TrustingOpenRebuildsMissingOrBadIndex) {
  config_.segment_bytes = 600;
  {
    auto log = open_log(false);
    fill(*log, 20);
    ASSERT_TRUE(log->close().ok());
  }
  std::filesystem::remove(file(0, ".index"));
  auto log = open_log(false);
  EXPECT_GT(log->recovered_batches(), 0);
  EXPECT_LT(log->recovered_batches(), 20);  // only the segment that lost its index
  EXPECT_TRUE(std::filesystem::exists(file(0, ".index")));
  expect_readable(*log);
  ASSERT_TRUE(log->close().ok());
  log.reset();

  std::filesystem::resize_file(file(0, ".index"), 13);  // not a multiple of 8
  log = open_log(false);
  EXPECT_GT(log->recovered_batches(), 0);
  expect_readable(*log);
}

TEST_F(LogRecoveryTest, RecoveryPointLimitsTheScan) {
  config_.segment_bytes = 600;
  std::vector<int64_t> bases;
  {
    auto log = open_log(false);
    fill(*log, 20);
    ASSERT_TRUE(log->flush().ok());
    bases = log->segment_base_offsets();
    ASSERT_GE(bases.size(), 3u);
  }
  auto log = open_log(true, bases.back());
  EXPECT_EQ(log->log_end_offset(), 40);
  EXPECT_GT(log->recovered_batches(), 0);
  EXPECT_EQ(log->recovered_batches(), (40 - bases.back()) / 2);
  expect_readable(*log);
}

TEST_F(LogRecoveryTest, LogStartOffsetFromCheckpoint) {
  {
    auto log = open_log(false);
    fill(*log, 5);
    ASSERT_TRUE(log->close().ok());
  }
  LogOpenOptions o;
  o.log_start_offset = 4;
  auto log = Log::open(dir(), config_, &clock_, o);
  ASSERT_TRUE(log.ok());
  EXPECT_EQ((*log)->log_start_offset(), 4);
  EXPECT_TRUE(absl::IsOutOfRange((*log)->read(3, 100, true).status()));
  EXPECT_TRUE((*log)->read(4, 100, true).ok());
}

}  // namespace
}  // namespace gregor::storage

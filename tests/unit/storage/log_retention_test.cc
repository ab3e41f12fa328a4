// Retention by time and size: whole oldest segments go, the active one never does, the log
// start offset advances, and fetches in flight keep reading deleted files.
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

class LogRetentionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    config_.segment_bytes = 500;
    auto log = Log::open(tmp_.path() / "t-0", config_, &clock_, false);
    ASSERT_TRUE(log.ok());
    log_ = *log;
  }
  void append(int64_t ts) {
    std::string b = make_batch(2, ts);
    ASSERT_TRUE(log_->append(b).ok());
  }
  bool segment_exists(int64_t base) {
    return std::filesystem::exists(tmp_.path() / "t-0" / (segment_file_stem(base) + ".log"));
  }

  TempDir tmp_;
  FakeClock clock_;
  LogConfig config_;
  std::shared_ptr<Log> log_;
};

TEST_F(LogRetentionTest, ByTimeUsesLargestTimestampOfSegment) {
  const int64_t hour = 3600 * 1000;
  for (int i = 0; i < 10; ++i) append(clock_.now_ms() - 10 * hour);
  for (int i = 0; i < 10; ++i) append(clock_.now_ms());
  auto bases = log_->segment_base_offsets();
  ASSERT_GE(bases.size(), 4u);
  LogConfig c = config_;
  c.retention_ms = hour;
  log_->update_config(c);
  auto deleted = log_->apply_retention();
  ASSERT_TRUE(deleted.ok());
  EXPECT_GT(*deleted, 0);
  int64_t start = log_->log_start_offset();
  EXPECT_GT(start, 0);
  EXPECT_LE(start, 20);  // no segment with a fresh record was deleted
  EXPECT_EQ(log_->segment_base_offsets().front(), start);
  EXPECT_FALSE(segment_exists(0));
  EXPECT_FALSE(std::filesystem::exists(tmp_.path() / "t-0" / (segment_file_stem(0) + ".index")));
  EXPECT_TRUE(absl::IsOutOfRange(log_->read(0, 100, true).status()));
  EXPECT_TRUE(log_->read(start, 100, true).ok());
  EXPECT_EQ(*log_->apply_retention(), 0);
}

TEST_F(LogRetentionTest, BySizeKeepsAtMostRetentionBytes) {
  for (int i = 0; i < 30; ++i) append(clock_.now_ms());
  LogConfig c = config_;
  c.retention_bytes = 1000;
  log_->update_config(c);
  int64_t before = log_->size_bytes();
  auto deleted = log_->apply_retention();
  ASSERT_TRUE(deleted.ok());
  EXPECT_GT(*deleted, 0);
  EXPECT_LT(log_->size_bytes(), before);
  EXPECT_GE(log_->size_bytes(), 1000 - 500);  // deletes only what exceeds, segment-wise
  EXPECT_LE(log_->size_bytes(), 1000 + 500);
  EXPECT_EQ(log_->log_start_offset(), log_->segment_base_offsets().front());
  EXPECT_EQ(log_->log_end_offset(), 60);
}

TEST_F(LogRetentionTest, NeverDeletesTheActiveSegmentButRollsItBySegmentMs) {
  append(1);
  LogConfig c = config_;
  c.retention_ms = 10;
  c.segment_ms = 1000;
  log_->update_config(c);
  EXPECT_EQ(*log_->apply_retention(), 0);
  EXPECT_EQ(log_->log_start_offset(), 0);
  clock_.advance(1000);
  EXPECT_EQ(*log_->apply_retention(), 1);  // rolled, then the old segment expired
  EXPECT_EQ(log_->segment_base_offsets(), (std::vector<int64_t>{2}));
  EXPECT_EQ(log_->log_start_offset(), 2);
  EXPECT_EQ(log_->log_end_offset(), 2);
  EXPECT_TRUE(log_->read(2, 100, true)->slices.empty());
  append(clock_.now_ms());
  EXPECT_EQ(log_->log_end_offset(), 4);
}

TEST_F(LogRetentionTest, InFlightReadSurvivesDeletion) {
  for (int i = 0; i < 10; ++i) append(1);
  auto r = log_->read(0, 1 << 20, true);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->slices.size(), 1u);
  LogConfig c = config_;
  c.retention_ms = 0;
  log_->update_config(c);
  ASSERT_GT(*log_->apply_retention(), 0);
  EXPECT_FALSE(segment_exists(0));
  auto hs = headers_of(read_slice(r->slices[0]));
  ASSERT_FALSE(hs.empty());
  EXPECT_EQ(hs[0].base_offset, 0);
}

}  // namespace
}  // namespace gregor::storage

// storage::Log: append/read, offset assignment, rolling, timestamp lookups, flush policy and
// append validation.
#include "storage/log.h"

#include "gtest/gtest.h"
#include "storage/segment.h"
#include "storage_test_util.h"

namespace gregor::storage {
namespace {

using testing::headers_of;
using testing::make_batch;
using testing::read_all;
using testing::TempDir;

class LogTest : public ::testing::Test {
 protected:
  std::shared_ptr<Log> open_log(bool recover = false) {
    auto log = Log::open(tmp_.path() / "topic-0", config_, &clock_, recover);
    EXPECT_TRUE(log.ok()) << log.status();
    return log.ok() ? *log : nullptr;
  }
  AppendInfo append(Log& log, int records, int64_t ts) {
    std::string b = make_batch(records, ts);
    auto info = log.append(b);
    EXPECT_TRUE(info.ok()) << info.status();
    return info.ok() ? *info : AppendInfo{};
  }
  TempDir tmp_;
  FakeClock clock_;
  LogConfig config_;
};

TEST_F(LogTest, AppendReadRoundTripAssignsOffsets) {
  auto log = open_log();
  AppendInfo a = append(*log, 3, 1000);
  AppendInfo b = append(*log, 2, 2000);
  EXPECT_EQ(a.base_offset, 0);
  EXPECT_EQ(a.last_offset, 2);
  EXPECT_EQ(b.base_offset, 3);
  EXPECT_EQ(b.last_offset, 4);
  EXPECT_EQ(b.max_timestamp, 2001);
  EXPECT_EQ(b.log_append_time, -1);
  EXPECT_EQ(log->log_end_offset(), 5);

  auto headers = headers_of(read_all(*log, 0));
  ASSERT_EQ(headers.size(), 2u);
  EXPECT_EQ(headers[0].base_offset, 0);
  EXPECT_EQ(headers[1].base_offset, 3);
  // Reading from inside the second batch returns that whole batch.
  std::string tail = read_all(*log, 4);
  headers = headers_of(tail);
  ASSERT_EQ(headers.size(), 1u);
  EXPECT_EQ(headers[0].base_offset, 3);
  auto records = protocol::decode_records(tail, 1 << 20);
  ASSERT_TRUE(records.ok());
  EXPECT_EQ((*records)[1].offset, 4);
  EXPECT_EQ((*records)[1].value->substr(0, 2), "v1");

  auto at_end = log->read(5, 1000, true);
  ASSERT_TRUE(at_end.ok());
  EXPECT_TRUE(at_end->slices.empty());
  EXPECT_EQ(at_end->high_watermark, 5);
  EXPECT_TRUE(absl::IsOutOfRange(log->read(6, 1000, true).status()));
}

TEST_F(LogTest, MultiBatchAppendAndMaxBytes) {
  auto log = open_log();
  std::string two = make_batch(5, 100) + make_batch(5, 200);
  auto info = log->append(two);
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(info->base_offset, 0);
  EXPECT_EQ(info->last_offset, 9);
  EXPECT_EQ(info->batch_count, 2);
  auto hs = headers_of(read_all(*log, 0));
  ASSERT_EQ(hs.size(), 2u);
  EXPECT_EQ(hs[1].base_offset, 5);

  int64_t first_size = static_cast<int64_t>(hs[0].total_size());
  auto r = log->read(0, first_size + 10, false);  // room for one whole batch only
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->bytes, first_size);
  r = log->read(0, 10, false);
  EXPECT_EQ(r->bytes, 0);
  r = log->read(0, 10, true);  // min_one_batch wins over max_bytes
  EXPECT_EQ(r->bytes, first_size);
}

TEST_F(LogTest, RollsBySegmentBytes) {
  config_.segment_bytes = 400;
  auto log = open_log();
  for (int i = 0; i < 10; ++i) append(*log, 2, 1000 + i);
  auto bases = log->segment_base_offsets();
  EXPECT_GT(bases.size(), 3u);
  EXPECT_EQ(bases.front(), 0);
  for (int64_t base : bases) {
    EXPECT_TRUE(
        std::filesystem::exists(tmp_.path() / "topic-0" / (segment_file_stem(base) + ".log")));
    EXPECT_TRUE(
        std::filesystem::exists(tmp_.path() / "topic-0" / (segment_file_stem(base) + ".index")));
    EXPECT_TRUE(std::filesystem::exists(tmp_.path() / "topic-0" /
                                        (segment_file_stem(base) + ".timeindex")));
  }
  for (int64_t off = 0; off < 20; ++off) {
    auto hs = headers_of(read_all(*log, off));
    ASSERT_FALSE(hs.empty()) << off;
    EXPECT_LE(hs[0].base_offset, off);
    EXPECT_GE(hs[0].last_offset(), off);
  }
}

TEST_F(LogTest, RollsBySegmentMs) {
  config_.segment_ms = 1000;
  auto log = open_log();
  append(*log, 1, 1);
  clock_.advance(999);
  append(*log, 1, 2);
  EXPECT_EQ(log->segment_base_offsets().size(), 1u);
  clock_.advance(1);
  append(*log, 1, 3);
  EXPECT_EQ(log->segment_base_offsets(), (std::vector<int64_t>{0, 2}));
}

TEST_F(LogTest, RollsWhenIndexIsFull) {
  config_.segment_index_bytes = 24;  // 3 offset entries, 2 time entries
  config_.index_interval_bytes = 0;  // an entry for every batch after the first
  auto log = open_log();
  for (int i = 0; i < 5; ++i) append(*log, 1, 500);  // same timestamp: one time entry
  EXPECT_EQ(log->segment_base_offsets(), (std::vector<int64_t>{0, 4}));
}

TEST_F(LogTest, SparseIndexStillFindsEveryOffset) {
  config_.index_interval_bytes = 300;
  auto log = open_log();
  for (int i = 0; i < 40; ++i) append(*log, 3, 1000 + 10 * i);
  for (int64_t off = 0; off < 120; off += 7) {
    auto hs = headers_of(read_all(*log, off));
    ASSERT_FALSE(hs.empty());
    EXPECT_EQ(hs[0].base_offset, off / 3 * 3);
  }
  auto index_size =
      std::filesystem::file_size(tmp_.path() / "topic-0" / (segment_file_stem(0) + ".index"));
  EXPECT_EQ(index_size, static_cast<uintmax_t>(config_.segment_index_bytes));  // preallocated
  ASSERT_TRUE(log->close().ok());
  index_size =
      std::filesystem::file_size(tmp_.path() / "topic-0" / (segment_file_stem(0) + ".index"));
  EXPECT_GT(index_size, 0u);
  EXPECT_LT(index_size, 40u * 8);  // sparse and trimmed
  EXPECT_EQ(index_size % 8, 0u);
}

TEST_F(LogTest, OffsetForTimestampAndMaxTimestamp) {
  config_.segment_bytes = 500;
  config_.index_interval_bytes = 100;
  auto log = open_log();
  // Batch i holds 3 records with timestamps 1000+100i, +1, +2.
  for (int i = 0; i < 20; ++i) append(*log, 3, 1000 + 100 * i);
  ASSERT_GT(log->segment_base_offsets().size(), 1u);
  EXPECT_EQ(log->offset_for_timestamp(0), (std::pair<int64_t, int64_t>{0, 1000}));
  EXPECT_EQ(log->offset_for_timestamp(1000), (std::pair<int64_t, int64_t>{0, 1000}));
  EXPECT_EQ(log->offset_for_timestamp(1001), (std::pair<int64_t, int64_t>{1, 1001}));
  EXPECT_EQ(log->offset_for_timestamp(1003), (std::pair<int64_t, int64_t>{3, 1100}));
  EXPECT_EQ(log->offset_for_timestamp(2502), (std::pair<int64_t, int64_t>{47, 2502}));
  EXPECT_EQ(log->offset_for_timestamp(2903), (std::pair<int64_t, int64_t>{-1, -1}));
  EXPECT_EQ(log->max_timestamp_offset(), (std::pair<int64_t, int64_t>{59, 2902}));
}

TEST_F(LogTest, MaxTimestampIsTheRecordNotTheBatchEnd) {
  auto log = open_log();
  std::vector<protocol::Record> recs(3);
  recs[0].timestamp = 10;
  recs[1].timestamp = 50;  // the largest, in the middle
  recs[2].timestamp = 20;
  for (int i = 0; i < 3; ++i) recs[i].offset = i;
  auto b = protocol::build_batch({}, recs);
  ASSERT_TRUE(b.ok());
  ASSERT_TRUE(log->append(*b).ok());
  EXPECT_EQ(log->max_timestamp_offset(), (std::pair<int64_t, int64_t>{1, 50}));
  EXPECT_EQ(log->offset_for_timestamp(15), (std::pair<int64_t, int64_t>{1, 50}));
}

TEST_F(LogTest, LogAppendTimeOverridesTimestamps) {
  config_.log_append_time = true;
  auto log = open_log();
  AppendInfo info = append(*log, 2, 5);
  EXPECT_EQ(info.log_append_time, clock_.now_ms());
  auto hs = headers_of(read_all(*log, 0));
  ASSERT_EQ(hs.size(), 1u);
  EXPECT_EQ(hs[0].timestamp_type(), protocol::TimestampType::kLogAppendTime);
  EXPECT_EQ(hs[0].max_timestamp, clock_.now_ms());
  EXPECT_EQ(log->offset_for_timestamp(clock_.now_ms()).first, 0);
}

TEST_F(LogTest, RejectsCorruptOversizedAndTruncatedBatches) {
  config_.max_message_bytes = 200;
  auto log = open_log();
  std::string big = make_batch(1, 1, 500);
  EXPECT_TRUE(absl::IsResourceExhausted(log->append(big).status()));
  std::string bad = make_batch(1, 1);
  bad[bad.size() - 1] ^= 0x40;
  EXPECT_TRUE(absl::IsDataLoss(log->append(bad).status()));
  std::string cut = make_batch(1, 1);
  cut.resize(cut.size() - 3);
  EXPECT_TRUE(absl::IsInvalidArgument(log->append(cut).status()));  // INVALID_RECORD
  std::string cut_header = make_batch(1, 1).substr(0, 40);
  EXPECT_TRUE(absl::IsInvalidArgument(log->append(cut_header).status()));
  std::string empty;
  EXPECT_FALSE(log->append(empty).ok());
  // All-or-nothing: a good batch followed by a bad one writes nothing.
  std::string mixed = make_batch(1, 1) + bad;
  EXPECT_FALSE(log->append(mixed).ok());
  EXPECT_EQ(log->log_end_offset(), 0);
  EXPECT_EQ(log->size_bytes(), 0);
}

TEST_F(LogTest, AppendWithOffsets) {
  auto log = open_log();
  std::vector<protocol::Record> recs(2);
  recs[0].offset = 0;
  recs[1].offset = 1;
  auto b = protocol::build_batch({}, recs);
  ASSERT_TRUE(b.ok());
  ASSERT_TRUE(log->append_with_offsets(*b).ok());
  EXPECT_EQ(log->log_end_offset(), 2);
  EXPECT_TRUE(absl::IsInvalidArgument(log->append_with_offsets(*b).status()));  // below the end
  protocol::BatchOptions o;
  o.base_offset = 2;
  for (auto& r : recs) r.offset += 2;
  b = protocol::build_batch(o, recs);
  ASSERT_TRUE(b.ok());
  ASSERT_TRUE(log->append_with_offsets(*b).ok());
  EXPECT_EQ(log->log_end_offset(), 4);
}

TEST_F(LogTest, FlushMessagesAndFlushMs) {
  config_.flush_interval_messages = 5;
  auto log = open_log();
  append(*log, 3, 1);
  EXPECT_EQ(log->flushed_offset(), 0);
  append(*log, 2, 1);
  EXPECT_EQ(log->flushed_offset(), 5);

  LogConfig c = config_;
  c.flush_interval_messages = std::numeric_limits<int64_t>::max();
  c.flush_interval_ms = 1000;
  log->update_config(c);
  append(*log, 1, 1);
  ASSERT_TRUE(log->flush_if_due().ok());
  EXPECT_EQ(log->flushed_offset(), 5);
  clock_.advance(1000);
  ASSERT_TRUE(log->flush_if_due().ok());
  EXPECT_EQ(log->flushed_offset(), 6);
}

TEST_F(LogTest, ClosedLogRejectsAppends) {
  auto log = open_log();
  append(*log, 1, 1);
  ASSERT_TRUE(log->close().ok());
  std::string b = make_batch(1, 1);
  EXPECT_FALSE(log->append(b).ok());
  ASSERT_TRUE(log->remove().ok());
  EXPECT_FALSE(std::filesystem::exists(tmp_.path() / "topic-0"));
}

}  // namespace
}  // namespace gregor::storage

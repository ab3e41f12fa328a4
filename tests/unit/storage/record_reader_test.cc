// storage::for_each_record / for_each_record_in_batches over a real Log: every record in
// offset order, with its batch header (producer, transactional and control flags).
#include "storage/record_reader.h"

#include "gtest/gtest.h"
#include "storage_test_util.h"

namespace gregor::storage {
namespace {

using testing::TempDir;

std::string batch(int64_t base_offset, std::vector<std::pair<std::string, std::string>> kvs,
                  const protocol::BatchOptions& base = {}) {
  std::vector<protocol::Record> records;
  for (size_t i = 0; i < kvs.size(); ++i) {
    protocol::Record r;
    r.offset = base_offset + static_cast<int64_t>(i);
    r.timestamp = 1000;
    r.key = kvs[i].first;
    r.value = kvs[i].second;
    records.push_back(std::move(r));
  }
  protocol::BatchOptions options = base;
  options.base_offset = base_offset;
  auto b = protocol::build_batch(options, records);
  EXPECT_TRUE(b.ok()) << b.status();
  return b.ok() ? *b : std::string();
}

struct Seen {
  int64_t offset;
  std::string key;
  int64_t producer_id;
  int16_t producer_epoch;
  bool transactional;
  bool control;
  bool operator==(const Seen&) const = default;
};

class RecordReaderTest : public ::testing::Test {
 protected:
  RecordReaderTest() {
    auto l = Log::open(tmp_.path() / "__consumer_offsets-0", config_, &clock_, false);
    EXPECT_TRUE(l.ok()) << l.status();
    log_ = *l;
    // offsets 0-1: a plain batch; 2-3: transactional (producer 7, epoch 3), gzip; 4: its
    // commit marker (control key: version 0, type 1).
    protocol::BatchOptions txn;
    txn.producer_id = 7;
    txn.producer_epoch = 3;
    txn.transactional = true;
    txn.compression = protocol::Compression::kGzip;
    protocol::BatchOptions marker = txn;
    marker.compression = protocol::Compression::kNone;
    marker.control = true;
    std::string all =
        batch(0, {{"a", "1"}, {"b", "2"}}) + batch(2, {{"c", "3"}, {"d", "4"}}, txn) +
        batch(4, {{std::string("\0\0\0\1", 4), std::string("\0\0\0\0\0\0", 6)}}, marker);
    auto info = log_->append_with_offsets(all);
    EXPECT_TRUE(info.ok()) << info.status();
  }

  std::vector<Seen> read_from(int64_t from) {
    std::vector<Seen> seen;
    absl::Status s = for_each_record_in_batches(
        *log_, from, 1 << 20, [&](const protocol::RecordBatchHeader& h, const protocol::Record& r) {
          seen.push_back({r.offset, r.key.value_or(""), h.producer_id, h.producer_epoch,
                          h.is_transactional(), h.is_control()});
          return absl::OkStatus();
        });
    EXPECT_TRUE(s.ok()) << s;
    return seen;
  }

  TempDir tmp_;
  FakeClock clock_;
  LogConfig config_;
  std::shared_ptr<Log> log_;
};

TEST_F(RecordReaderTest, DeliversEveryRecordWithItsBatchHeader) {
  const std::string marker_key("\0\0\0\1", 4);
  EXPECT_EQ(read_from(0), (std::vector<Seen>{{0, "a", -1, -1, false, false},
                                             {1, "b", -1, -1, false, false},
                                             {2, "c", 7, 3, true, false},
                                             {3, "d", 7, 3, true, false},
                                             {4, marker_key, 7, 3, true, true}}));
}

TEST_F(RecordReaderTest, StartsInsideABatch) {
  std::vector<Seen> seen = read_from(3);
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[0].offset, 3);
  EXPECT_TRUE(seen[0].transactional);
  EXPECT_TRUE(seen[1].control);
}

TEST_F(RecordReaderTest, PlainVariantSeesTheSameRecords) {
  std::vector<int64_t> offsets;
  ASSERT_TRUE(for_each_record(*log_, 0, 1 << 20, [&](const protocol::Record& r) {
                offsets.push_back(r.offset);
                return absl::OkStatus();
              }).ok());
  EXPECT_EQ(offsets, (std::vector<int64_t>{0, 1, 2, 3, 4}));
}

TEST_F(RecordReaderTest, StopsAtTheCallbacksError) {
  int calls = 0;
  absl::Status s = for_each_record_in_batches(
      *log_, 0, 1 << 20, [&](const protocol::RecordBatchHeader&, const protocol::Record&) {
        return ++calls == 3 ? absl::CancelledError("enough") : absl::OkStatus();
      });
  EXPECT_EQ(s.code(), absl::StatusCode::kCancelled);
  EXPECT_EQ(calls, 3);
}

// The path __consumer_offsets takes: the coordinator appends a transactional batch (base
// sequence -1) and the transaction coordinator its marker; the reader hands both back.
TEST_F(RecordReaderTest, CoordinatorTransactionalAppendAndMarker) {
  protocol::BatchOptions txn;
  txn.producer_id = 9;
  txn.producer_epoch = 1;
  txn.transactional = true;
  std::string b = batch(0, {{"e", "5"}}, txn);
  auto appended = log_->append(b, AppendOrigin::kCoordinator);
  ASSERT_TRUE(appended.ok()) << appended.status();
  auto marker = log_->append_control(9, 1, /*commit=*/false, /*coordinator_epoch=*/0);
  ASSERT_TRUE(marker.ok()) << marker.status();
  std::vector<Seen> seen = read_from(5);
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[0], (Seen{5, "e", 9, 1, true, false}));
  EXPECT_EQ(seen[1].producer_id, 9);
  EXPECT_TRUE(seen[1].control);
  EXPECT_EQ(seen[1].key, std::string("\0\0\0\0", 4));  // version 0, type 0 = abort
}

}  // namespace
}  // namespace gregor::storage

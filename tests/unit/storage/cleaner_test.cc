// Log compaction: latest value per key with offsets preserved, tombstones kept until their
// delete horizon, the active segment untouched, reads during cleaning, crash leftovers
// (.cleaned/.swap) finished on open, compact+delete retention, and the cleaner's dirty ratio.
#include <atomic>
#include <fstream>
#include <map>
#include <optional>
#include <thread>

#include "gtest/gtest.h"
#include "protocol/record_batch.h"
#include "storage/batch_rewrite.h"
#include "storage/log.h"
#include "storage/log_cleaner.h"
#include "storage/log_manager.h"
#include "storage/segment.h"
#include "storage_test_util.h"

namespace gregor::storage {
namespace {

using protocol::Record;
using testing::headers_of;
using testing::read_slice;
using testing::TempDir;

using KV = std::pair<std::optional<std::string>, std::optional<std::string>>;
constexpr int64_t kHour = 3600 * 1000;

std::string keyed_batch(const std::vector<KV>& kvs, int64_t ts) {
  std::vector<Record> records;
  for (size_t i = 0; i < kvs.size(); ++i) {
    Record r;
    r.offset = static_cast<int64_t>(i);
    r.timestamp = ts + static_cast<int64_t>(i);
    r.key = kvs[i].first;
    r.value = kvs[i].second;
    records.push_back(std::move(r));
  }
  auto b = protocol::build_batch(protocol::BatchOptions{}, records);
  EXPECT_TRUE(b.ok()) << b.status();
  return b.ok() ? *b : std::string();
}

// Every record from the log start to the end, by offset.
std::map<int64_t, Record> read_all(const Log& log) {
  std::map<int64_t, Record> out;
  int64_t offset = log.log_start_offset();
  while (offset < log.log_end_offset()) {
    auto r = log.read(offset, 1 << 20, true);
    EXPECT_TRUE(r.ok()) << r.status();
    if (!r.ok() || r->slices.empty()) break;
    std::string bytes = read_slice(r->slices.front());
    int64_t next = offset;
    for (const auto& h : headers_of(bytes)) {
      std::string_view batch = std::string_view(bytes).substr(0, h.total_size());
      auto records = protocol::decode_records(batch, 1 << 26);
      EXPECT_TRUE(records.ok()) << records.status();
      for (Record& rec : *records) {
        if (rec.offset >= offset) out[rec.offset] = rec;
      }
      next = h.last_offset() + 1;
      bytes.erase(0, h.total_size());
    }
    EXPECT_GT(next, offset);
    offset = next;
  }
  return out;
}

std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

class CleanerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    config_.segment_bytes = 400;
    config_.compact = true;
    config_.retention_ms = -1;
    config_.delete_retention_ms = kHour;
    open();
  }
  void open() {
    auto log = Log::open(dir(), config_, &clock_, false);
    ASSERT_TRUE(log.ok()) << log.status();
    log_ = *log;
  }
  std::filesystem::path dir() const { return tmp_.path() / "t-0"; }
  void put(const std::string& key, std::optional<std::string> value) {
    std::string b = keyed_batch({{key, std::move(value)}}, clock_.now_ms());
    auto info = log_->append(b);
    ASSERT_TRUE(info.ok()) << info.status();
    offsets_[key] = info->base_offset;
  }
  // Five keys written `rounds` times, values "<key>@<round>".
  void overwrite(int rounds) {
    for (int r = 0; r < rounds; ++r) {
      for (int k = 0; k < 5; ++k)
        put("k" + std::to_string(k), "k" + std::to_string(k) + "@" + std::to_string(r));
    }
  }
  CompactionResult compact(int64_t first_dirty = 0) {
    CompactOptions o;
    o.first_dirty_offset = first_dirty;
    auto r = log_->compact(o);
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? *r : CompactionResult{};
  }
  std::string active_bytes() const {
    return slurp(dir() / (segment_file_stem(log_->segment_base_offsets().back()) + ".log"));
  }

  TempDir tmp_;
  FakeClock clock_;
  LogConfig config_;
  std::shared_ptr<Log> log_;
  std::map<std::string, int64_t> offsets_;  // last offset written per key
};

TEST_F(CleanerTest, KeepsLatestValuePerKeyAtItsOffsetAndTombstonesUntilTheHorizon) {
  overwrite(6);
  put("k1", std::nullopt);  // delete k1
  put("k2", "k2@last");
  for (int i = 0; i < 15; ++i) put("f" + std::to_string(i), "filler");  // rolls past them
  const int64_t end = log_->log_end_offset();
  const size_t segments_before = log_->segment_base_offsets().size();
  ASSERT_GE(segments_before, 4u);
  const std::string active = active_bytes();
  const int64_t active_base = log_->segment_base_offsets().back();

  CompactionResult r = compact();
  EXPECT_TRUE(r.cleaned);
  EXPECT_EQ(r.cleaned_upto, active_base);
  EXPECT_GT(r.records_removed, 0);
  EXPECT_LT(r.bytes_written, r.bytes_read);
  EXPECT_EQ(log_->log_end_offset(), end);
  EXPECT_EQ(log_->log_start_offset(), 0);
  EXPECT_EQ(log_->segment_base_offsets().front(), 0);
  EXPECT_EQ(log_->segment_base_offsets().back(), active_base);
  EXPECT_EQ(active_bytes(), active);  // the active segment is never touched

  // Below the active segment: one record per key, the latest, at its original offset.
  std::map<std::string, int> seen;
  for (const auto& [offset, rec] : read_all(*log_)) {
    if (offset >= active_base) continue;
    ASSERT_TRUE(rec.key);
    EXPECT_EQ(++seen[*rec.key], 1) << *rec.key;
    EXPECT_EQ(offsets_[*rec.key], offset) << *rec.key;
    if (*rec.key == "k1") {
      EXPECT_FALSE(rec.value);  // the tombstone survives its first pass
    }
  }
  EXPECT_TRUE(seen.contains("k1"));

  // Before delete.retention.ms the tombstone stays; after it a pass drops it.
  EXPECT_FALSE(log_->cleanable_stats(r.cleaned_upto).delete_horizon_due);
  clock_.advance(kHour - 1);
  compact(r.cleaned_upto);
  EXPECT_EQ(read_all(*log_).count(offsets_["k1"]), 1u);
  clock_.advance(2);
  EXPECT_TRUE(log_->cleanable_stats(r.cleaned_upto).delete_horizon_due);
  CompactionResult again = compact(r.cleaned_upto);
  EXPECT_TRUE(again.cleaned);
  auto after = read_all(*log_);
  EXPECT_EQ(after.count(offsets_["k1"]), 0u);
  EXPECT_EQ(after.at(offsets_["k2"]).value, "k2@last");
  EXPECT_EQ(log_->log_end_offset(), end);
  EXPECT_FALSE(log_->cleanable_stats(again.cleaned_upto).delete_horizon_due);
}

TEST_F(CleanerTest, RewrittenBatchKeepsHeaderAndLastOffsetDelta) {
  std::string b = keyed_batch({{"a", "1"}, {"b", "1"}, {"c", "1"}}, clock_.now_ms());
  ASSERT_TRUE(log_->append(b).ok());
  put("c", "2");
  config_.segment_bytes = 1;  // roll on every append from now on
  log_->update_config(config_);
  put("d", "1");
  compact();
  auto r = log_->read(0, 1 << 20, true);
  ASSERT_TRUE(r.ok());
  std::string bytes = read_slice(r->slices.front());
  auto headers = headers_of(bytes);
  ASSERT_FALSE(headers.empty());
  EXPECT_EQ(headers[0].base_offset, 0);
  EXPECT_EQ(headers[0].last_offset_delta, 2);  // record 2 ("c") is gone, the delta stays
  EXPECT_EQ(headers[0].records_count, 2);
  auto records = protocol::decode_records(bytes.substr(0, headers[0].total_size()), 1 << 20);
  ASSERT_TRUE(records.ok());
  ASSERT_EQ(records->size(), 2u);
  EXPECT_EQ((*records)[1].offset, 1);
  EXPECT_EQ((*records)[1].timestamp, clock_.now_ms() + 1);
}

TEST(BatchRewriteTest, DeleteHorizonKeepsRecordTimestamps) {
  std::string b = keyed_batch({{"a", std::nullopt}, {"b", "x"}}, 5000);
  auto h = protocol::parse_batch_header(b);
  ASSERT_TRUE(h.ok());
  auto records = protocol::decode_records(b, 1 << 20);
  ASSERT_TRUE(records.ok());
  auto out = rewrite_batch(*h, *records, 99999);
  ASSERT_TRUE(out.ok());
  EXPECT_TRUE(protocol::batch_crc_valid(*out));
  auto nh = protocol::parse_batch_header(*out);
  ASSERT_TRUE(nh.ok());
  EXPECT_TRUE(has_delete_horizon(*nh));
  EXPECT_EQ(nh->base_timestamp, 99999);
  EXPECT_EQ(nh->max_timestamp, 5001);
  auto back = protocol::decode_records(*out, 1 << 20);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ((*back)[0].timestamp, 5000);
  EXPECT_EQ((*back)[1].timestamp, 5001);
  auto empty = rewrite_batch(*h, {}, std::nullopt);
  ASSERT_TRUE(empty.ok());
  auto eh = protocol::parse_batch_header(*empty);
  ASSERT_TRUE(eh.ok());
  EXPECT_EQ(eh->records_count, 0);
  EXPECT_EQ(eh->last_offset_delta, 1);
  EXPECT_TRUE(protocol::batch_crc_valid(*empty));
  EXPECT_TRUE(protocol::decode_records(*empty, 1 << 20).ok());
}

TEST_F(CleanerTest, LastBatchStaysEmptySoReadersReachTheLogEnd) {
  put("a", "1");
  put("a", std::nullopt);  // the log's last record is a tombstone
  clock_.advance(config_.segment_ms);
  ASSERT_TRUE(log_->apply_retention().ok());  // rolls: the active segment is empty
  ASSERT_EQ(log_->segment_base_offsets().size(), 2u);
  compact();
  clock_.advance(kHour + 1);
  EXPECT_TRUE(compact(2).cleaned);
  // The tombstone is gone but its batch stays, empty, so a reader at offset 1 moves on.
  auto r = log_->read(1, 1 << 20, true);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->slices.size(), 1u);
  auto headers = headers_of(read_slice(r->slices.front()));
  ASSERT_EQ(headers.size(), 1u);
  EXPECT_EQ(headers[0].base_offset, 1);
  EXPECT_EQ(headers[0].records_count, 0);
  EXPECT_TRUE(read_all(*log_).empty());
}

TEST_F(CleanerTest, NullKeysAreRefusedOnAppendToACompactedTopic) {
  std::string b = keyed_batch({{"a", "1"}, {std::nullopt, "2"}}, clock_.now_ms());
  EXPECT_TRUE(absl::IsInvalidArgument(log_->append(b).status()));
  config_.compact = false;
  log_->update_config(config_);
  EXPECT_TRUE(log_->append(b).ok());
}

TEST_F(CleanerTest, ReadsAndAppendsDuringCleaningAndSlicesOfOldSegments) {
  overwrite(20);
  auto before = log_->read(0, 1 << 20, true);
  ASSERT_TRUE(before.ok());
  const std::string old_bytes = read_slice(before->slices.front());
  std::atomic<bool> done{false};
  std::atomic<int> reads{0};
  std::thread reader([&] {
    while (!done.load()) {
      auto all = read_all(*log_);
      EXPECT_FALSE(all.empty());
      ++reads;
    }
  });
  std::thread writer([&] {
    for (int i = 0; i < 50; ++i) {
      std::string b = keyed_batch({{"w" + std::to_string(i % 7), "x"}}, clock_.now_ms());
      EXPECT_TRUE(log_->append(b).ok());
    }
  });
  for (int i = 0; i < 5; ++i) compact();
  writer.join();
  while (reads.load() < 3) std::this_thread::yield();
  done = true;
  reader.join();
  // A fetch that read the old first segment still gets its bytes after the swap.
  EXPECT_EQ(read_slice(before->slices.front()), old_bytes);
  EXPECT_EQ(log_->log_end_offset(), 150);
  EXPECT_EQ(read_all(*log_).rbegin()->first, 149);
}

TEST_F(CleanerTest, LeftoverCleanedFilesAreRemovedOnOpen) {
  overwrite(6);
  ASSERT_TRUE(log_->close().ok());
  for (const char* ext : {".log.cleaned", ".index.cleaned", ".timeindex.cleaned"}) {
    std::ofstream(dir() / (segment_file_stem(0) + ext)) << "half-written";
  }
  log_.reset();
  open();
  for (const auto& e : std::filesystem::directory_iterator(dir())) {
    EXPECT_EQ(e.path().string().find(".cleaned"), std::string::npos) << e.path();
  }
  EXPECT_EQ(read_all(*log_).size(), 30u);
}

TEST_F(CleanerTest, InterruptedSwapIsFinishedOnOpen) {
  overwrite(8);
  ASSERT_TRUE(log_->close().ok());
  // A compacted copy of the log provides the .swap files a crash would have left.
  const std::filesystem::path copy = tmp_.path() / "copy-0";
  std::filesystem::copy(dir(), copy);
  auto compacted = Log::open(copy, config_, &clock_, false);
  ASSERT_TRUE(compacted.ok());
  CompactOptions o;
  ASSERT_TRUE((*compacted)->compact(o).ok());
  const auto expected = read_all(**compacted);
  const auto bases = (*compacted)->segment_base_offsets();
  ASSERT_TRUE((*compacted)->close().ok());
  ASSERT_LT(expected.size(), 40u);
  for (size_t i = 0; i + 1 < bases.size(); ++i) {
    for (const char* ext : {".log", ".index", ".timeindex"}) {
      std::string name = segment_file_stem(bases[i]) + ext;
      std::filesystem::copy_file(copy / name, dir() / (name + ".swap"));
    }
  }
  // The crash came after the first old segment was renamed .deleted.
  std::filesystem::rename(dir() / (segment_file_stem(0) + ".log"),
                          dir() / (segment_file_stem(0) + ".log.deleted"));
  log_.reset();
  auto reopened = Log::open(dir(), config_, &clock_, true);
  ASSERT_TRUE(reopened.ok()) << reopened.status();
  log_ = *reopened;
  // Every record the compacted copy kept is there, and each key's last value is the copy's.
  // (Old segments past a swap's last offset whose records were all superseded may remain
  // until the next pass: stale but ordered, never a loss.)
  auto got = read_all(*log_);
  std::map<std::string, std::pair<int64_t, std::optional<std::string>>> last_got, last_expected;
  for (const auto& [offset, rec] : got) last_got[*rec.key] = {offset, rec.value};
  for (const auto& [offset, rec] : expected) {
    ASSERT_TRUE(got.contains(offset)) << offset;
    EXPECT_EQ(got.at(offset).value, rec.value);
    last_expected[*rec.key] = {offset, rec.value};
  }
  EXPECT_EQ(last_got, last_expected);
  EXPECT_EQ(log_->log_end_offset(), 40);
  for (const auto& e : std::filesystem::directory_iterator(dir())) {
    EXPECT_NE(e.path().extension(), ".swap") << e.path();
    EXPECT_NE(e.path().extension(), ".deleted") << e.path();
  }
}

TEST_F(CleanerTest, CompactDeleteAlsoAppliesRetention) {
  config_.retention_ms = kHour;
  log_->update_config(config_);
  overwrite(6);  // timestamps "now"
  clock_.advance(2 * kHour);
  overwrite(4);
  auto deleted = log_->apply_retention();
  ASSERT_TRUE(deleted.ok());
  EXPECT_GT(*deleted, 0);
  const int64_t start = log_->log_start_offset();
  EXPECT_GT(start, 0);
  // Compaction starts from the new log start; retention goes on after it.
  CompactionResult r = compact(0);
  EXPECT_TRUE(r.cleaned);
  EXPECT_EQ(log_->log_start_offset(), start);
  EXPECT_EQ(log_->segment_base_offsets().front(), start);
  config_.retention_bytes = 1;  // and retention by size
  log_->update_config(config_);
  deleted = log_->apply_retention();
  ASSERT_TRUE(deleted.ok());
  EXPECT_GT(*deleted, 0);
  EXPECT_GT(log_->log_start_offset(), start);
}

TEST_F(CleanerTest, SmallOffsetMapCleansInSeveralPasses) {
  overwrite(8);
  const auto bases = log_->segment_base_offsets();
  ASSERT_GE(bases.size(), 4u);
  CompactOptions o;
  o.max_map_bytes = 1;  // one dirty segment per pass
  int passes = 0;
  while (o.first_dirty_offset < bases.back()) {
    auto r = log_->compact(o);
    ASSERT_TRUE(r.ok()) << r.status();
    ASSERT_GT(r->cleaned_upto, o.first_dirty_offset);
    o.first_dirty_offset = r->cleaned_upto;
    ++passes;
  }
  EXPECT_EQ(passes, static_cast<int>(bases.size()) - 1);
  std::map<std::string, int64_t> last;
  for (const auto& [offset, rec] : read_all(*log_)) last[*rec.key] = offset;
  for (const auto& [key, offset] : last) EXPECT_EQ(offsets_[key], offset) << key;
  EXPECT_EQ(log_->log_end_offset(), 40);
}

TEST_F(CleanerTest, MinCompactionLagHoldsBackYoungSegments) {
  config_.min_compaction_lag_ms = kHour;
  log_->update_config(config_);
  overwrite(6);
  CleanableStats st = log_->cleanable_stats(0);
  EXPECT_EQ(st.first_uncleanable_offset, 0);
  EXPECT_EQ(st.dirty_bytes, 0);
  EXPECT_FALSE(compact().cleaned);
  clock_.advance(kHour);
  st = log_->cleanable_stats(0);
  EXPECT_GT(st.first_uncleanable_offset, 0);
  EXPECT_GT(st.dirty_bytes, 0);
  EXPECT_TRUE(compact().cleaned);
}

class LogManagerCleanerTest : public ::testing::Test {
 protected:
  LogManagerOptions options() {
    LogManagerOptions o;
    o.log_dirs = {tmp_.path() / "d1"};
    o.default_config.cleaner_backoff_ms = 10;
    return o;
  }
  void fill(Log& log, int rounds) {
    for (int r = 0; r < rounds; ++r) {
      for (int k = 0; k < 5; ++k) {
        std::string b = keyed_batch({{"k" + std::to_string(k), std::string(20, 'x')}}, 1000);
        ASSERT_TRUE(log.append(b).ok());
      }
    }
  }
  TempDir tmp_;
  FakeClock clock_;
};

TEST_F(LogManagerCleanerTest, CleansOnlyCompactedLogsPastTheDirtyRatio) {
  auto m = LogManager::open(options(), &clock_);
  ASSERT_TRUE(m.ok());
  LogConfig compact;
  compact.segment_bytes = 400;
  compact.compact = true;
  compact.min_cleanable_dirty_ratio = 0.5;
  LogConfig plain = compact;
  plain.compact = false;
  auto c = (*m)->get_or_create("c", 0, compact);
  auto p = (*m)->get_or_create("p", 0, plain);
  ASSERT_TRUE(c.ok() && p.ok());
  fill(**p, 10);
  fill(**c, 10);
  LogCleaner& cleaner = (*m)->cleaner();
  auto first = cleaner.clean_once();
  ASSERT_TRUE(first.ok());
  ASSERT_TRUE(first->has_value());
  EXPECT_EQ(**first, TopicPartition("c", 0));
  const int64_t upto = cleaner.checkpoint(tmp_.path() / "d1", {"c", 0});
  EXPECT_GT(upto, 0);
  std::ifstream in(tmp_.path() / "d1" / kCleanerOffsetCheckpoint);
  std::string version, count, topic;
  int64_t partition = -1, offset = -1;
  in >> version >> count >> topic >> partition >> offset;
  EXPECT_EQ(version, "0");
  EXPECT_EQ(count, "1");
  EXPECT_EQ(topic, "c");
  EXPECT_EQ(offset, upto);
  // Nothing dirty now; a little new data stays below the ratio.
  EXPECT_FALSE(cleaner.clean_once()->has_value());
  fill(**c, 1);
  CleanableStats st = (*c)->cleanable_stats(upto);
  if (st.dirty_ratio() < 0.5) {
    EXPECT_FALSE(cleaner.clean_once()->has_value());
  }
  fill(**c, 20);
  EXPECT_GE((*c)->cleanable_stats(upto).dirty_ratio(), 0.5);
  auto again = cleaner.clean_once();
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->has_value());
  EXPECT_GT(cleaner.checkpoint(tmp_.path() / "d1", {"c", 0}), upto);
  // The plain log was never touched.
  EXPECT_EQ((*p)->size_bytes(),
            (*p)->log_end_offset() *
                static_cast<int64_t>(keyed_batch({{"k0", std::string(20, 'x')}}, 1000).size()));
  ASSERT_TRUE((*m)->shutdown().ok());
}

TEST_F(LogManagerCleanerTest, BackgroundThreadCleansAndStopsAtShutdown) {
  auto m = LogManager::open(options(), &clock_);
  ASSERT_TRUE(m.ok());
  LogConfig compact;
  compact.segment_bytes = 400;
  compact.compact = true;
  auto c = (*m)->get_or_create("c", 0, compact);
  ASSERT_TRUE(c.ok());
  fill(**c, 10);
  const int64_t before = (*c)->size_bytes();
  (*m)->start_background();
  for (int i = 0; i < 2000 && (*m)->cleaner().checkpoint(tmp_.path() / "d1", {"c", 0}) == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_GT((*m)->cleaner().checkpoint(tmp_.path() / "d1", {"c", 0}), 0);
  EXPECT_LT((*c)->size_bytes(), before);
  ASSERT_TRUE((*m)->shutdown().ok());
}

}  // namespace
}  // namespace gregor::storage

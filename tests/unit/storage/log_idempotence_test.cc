// storage::Log with producer state: duplicates and Kafka-coded errors on append, transactions
// and the last stable offset, read_committed reads with their aborted transactions, and the
// producer state and .txnindex surviving clean restarts, corrupt snapshots, unclean recovery
// and retention.
#include <atomic>
#include <fstream>
#include <thread>
#include <tuple>

#include "gtest/gtest.h"
#include "protocol/control_batch.h"
#include "storage/kafka_error.h"
#include "storage/log.h"
#include "storage/log_manager.h"
#include "storage/producer_snapshot.h"
#include "storage/segment.h"
#include "storage_test_util.h"

namespace gregor::storage {
namespace {

using protocol::ErrorCode;
using testing::headers_of;
using testing::make_batch;
using testing::read_slice;
using testing::TempDir;

auto key(const ProducerInfo& p) {
  return std::make_tuple(p.producer_id, p.epoch, p.last_sequence, p.last_timestamp,
                         p.coordinator_epoch, p.current_txn_start_offset);
}

class LogIdempotenceTest : public ::testing::Test {
 protected:
  std::filesystem::path dir() const { return tmp_.path() / "t-0"; }
  std::shared_ptr<Log> open_log(bool recover = false, int64_t recovery_point = 0,
                                const std::filesystem::path& at = {}) {
    LogOpenOptions o;
    o.recover = recover;
    o.recovery_point = recovery_point;
    auto log = Log::open(at.empty() ? dir() : at, config_, &clock_, o);
    EXPECT_TRUE(log.ok()) << log.status();
    return log.ok() ? *log : nullptr;
  }
  std::string batch(int64_t pid, int16_t epoch, int32_t seq, int n = 1, bool txn = false) {
    std::vector<protocol::Record> records;
    for (int i = 0; i < n; ++i) {
      protocol::Record r;
      r.offset = i;
      r.timestamp = clock_.now_ms();
      r.value = "v" + std::to_string(i);
      records.push_back(std::move(r));
    }
    protocol::BatchOptions o;
    o.producer_id = pid;
    o.producer_epoch = epoch;
    o.base_sequence = seq;
    o.transactional = txn;
    auto b = protocol::build_batch(o, records);
    EXPECT_TRUE(b.ok());
    return *b;
  }
  absl::StatusOr<AppendInfo> send(Log& log, int64_t pid, int16_t epoch, int32_t seq, int n = 1,
                                  bool txn = false) {
    std::string b = batch(pid, epoch, seq, n, txn);
    return log.append(b);
  }
  AppendInfo plain(Log& log, int n = 1) {
    std::string b = make_batch(n, clock_.now_ms());
    auto info = log.append(b);
    EXPECT_TRUE(info.ok()) << info.status();
    return info.ok() ? *info : AppendInfo{};
  }
  static std::optional<ErrorCode> code(const absl::StatusOr<AppendInfo>& r) {
    return r.ok() ? std::nullopt : kafka_error_code(r.status());
  }
  std::vector<int64_t> read_offsets(Log& log, int64_t offset, bool committed,
                                    int64_t max_bytes = 1 << 20, ReadInfo* out = nullptr) {
    auto r = log.read(offset, max_bytes, true, committed);
    EXPECT_TRUE(r.ok()) << r.status();
    std::vector<int64_t> bases;
    if (!r.ok()) return bases;
    for (const auto& s : r->slices) {
      for (const auto& h : headers_of(read_slice(s))) bases.push_back(h.base_offset);
    }
    if (out) *out = *r;
    return bases;
  }

  void workload(Log& log, int rounds, int32_t* seq);

  TempDir tmp_;
  FakeClock clock_;
  LogConfig config_;
};

TEST_F(LogIdempotenceTest, DuplicatesOfTheLastFiveBatchesReturnTheirOffsets) {
  auto log = open_log();
  std::vector<AppendInfo> firsts;
  for (int i = 0; i < 6; ++i) {
    plain(*log);  // other writers between the producer's batches
    auto a = send(*log, 1000, 0, i * 3, 3);
    ASSERT_TRUE(a.ok()) << a.status();
    EXPECT_FALSE(a->duplicate);
    firsts.push_back(*a);
  }
  const int64_t end = log->log_end_offset();
  for (int i = 1; i < 6; ++i) {
    auto again = send(*log, 1000, 0, i * 3, 3);
    ASSERT_TRUE(again.ok()) << again.status();
    EXPECT_TRUE(again->duplicate);
    EXPECT_EQ(again->base_offset, firsts[i].base_offset);
    EXPECT_EQ(again->last_offset, firsts[i].last_offset);
  }
  EXPECT_EQ(log->log_end_offset(), end);
  EXPECT_EQ(code(send(*log, 1000, 0, 0, 3)), ErrorCode::kOutOfOrderSequenceNumber);
  EXPECT_EQ(log->log_end_offset(), end);
}

TEST_F(LogIdempotenceTest, ProducerErrorsCarryKafkaCodes) {
  auto log = open_log();
  ASSERT_TRUE(send(*log, 1, 3, 0, 2).ok());
  EXPECT_EQ(code(send(*log, 1, 3, 5)), ErrorCode::kOutOfOrderSequenceNumber);
  EXPECT_EQ(code(send(*log, 1, 2, 2)), ErrorCode::kInvalidProducerEpoch);
  EXPECT_EQ(code(send(*log, 1, 4, 1)), ErrorCode::kOutOfOrderSequenceNumber);
  ASSERT_TRUE(send(*log, 1, 4, 0).ok());
  ASSERT_TRUE(send(*log, 2, 0, 0, 1, /*txn=*/true).ok());
  EXPECT_EQ(code(send(*log, 2, 0, 1)), ErrorCode::kInvalidTxnState);
  EXPECT_EQ(log->log_end_offset(), 4);
}

TEST_F(LogIdempotenceTest, ClientBatchRulesAreInvalidRecord) {
  auto log = open_log();
  auto no_seq = send(*log, 1, 0, -1);
  EXPECT_TRUE(absl::IsInvalidArgument(no_seq.status())) << no_seq.status();
  std::string marker = protocol::make_control_batch(1, 0, true, 0, 5);
  EXPECT_TRUE(absl::IsInvalidArgument(log->append(marker).status()));
  std::string two = batch(1, 0, 0) + batch(1, 0, 1);
  EXPECT_TRUE(absl::IsInvalidArgument(log->append(two).status()));
  std::string mixed = make_batch(1, 5) + batch(1, 0, 0);
  EXPECT_TRUE(absl::IsInvalidArgument(log->append(mixed).status()));
  std::string plain_two = make_batch(1, 5) + make_batch(2, 6);
  EXPECT_TRUE(log->append(plain_two).ok());  // producer id -1: several batches still fine
  EXPECT_EQ(log->log_end_offset(), 3);
  // The group coordinator writes transactional offset commits without sequences.
  std::string commit = batch(9, 0, -1, 1, /*txn=*/true);
  EXPECT_TRUE(log->append(commit, AppendOrigin::kCoordinator).ok());
  EXPECT_EQ(log->last_stable_offset(), 3);
}

TEST_F(LogIdempotenceTest, VerifierIsAskedOnlyWhenABatchOpensATransaction) {
  auto log = open_log();
  std::vector<std::pair<int64_t, int16_t>> asked;
  bool allow = false;
  TxnVerifier verify = [&](int64_t pid, int16_t epoch) {
    asked.emplace_back(pid, epoch);
    return allow ? absl::OkStatus() : kafka_error(ErrorCode::kInvalidTxnState, "not added");
  };
  auto append = [&](int64_t pid, int16_t epoch, int32_t seq, bool txn) {
    std::string b = batch(pid, epoch, seq, 1, txn);
    return log->append(b, AppendOrigin::kClient, verify);
  };
  EXPECT_TRUE(append(1, 0, 0, /*txn=*/false).ok());  // not transactional: never asked
  EXPECT_TRUE(asked.empty());
  EXPECT_EQ(code(append(2, 3, 0, true)), ErrorCode::kInvalidTxnState);
  EXPECT_EQ(log->log_end_offset(), 1);  // refused: nothing written, no transaction opened
  EXPECT_EQ(log->last_stable_offset(), 1);
  EXPECT_TRUE(log->producers().size() == 1);
  allow = true;
  ASSERT_TRUE(append(2, 3, 0, true).ok());  // the retry after AddPartitionsToTxn
  ASSERT_TRUE(append(2, 3, 1, true).ok());  // inside the open transaction: not asked
  EXPECT_EQ(asked, (std::vector<std::pair<int64_t, int16_t>>{{2, 3}, {2, 3}}));
  EXPECT_EQ(log->last_stable_offset(), 1);
  ASSERT_TRUE(log->append_control(2, 3, /*commit=*/true, 0).ok());
  ASSERT_TRUE(append(2, 3, 2, true).ok());  // the next transaction: asked again
  EXPECT_EQ(asked.size(), 3u);
}

TEST_F(LogIdempotenceTest, TransactionsMoveTheLastStableOffset) {
  auto log = open_log();
  plain(*log, 2);  // 0-1
  EXPECT_EQ(log->last_stable_offset(), 2);
  ASSERT_TRUE(send(*log, 1, 0, 0, 2, true).ok());  // 2-3, producer 1's transaction
  EXPECT_EQ(log->last_stable_offset(), 2);
  plain(*log);                                     // 4
  ASSERT_TRUE(send(*log, 2, 5, 0, 1, true).ok());  // 5, producer 2's transaction
  EXPECT_EQ(log->last_stable_offset(), 2);
  EXPECT_EQ(code(log->append_control(1, -1, true, 0)), ErrorCode::kInvalidProducerEpoch);
  auto commit = log->append_control(1, 0, /*commit=*/true, 0);  // 6
  ASSERT_TRUE(commit.ok()) << commit.status();
  EXPECT_EQ(commit->base_offset, 6);
  EXPECT_EQ(log->last_stable_offset(), 5);
  ASSERT_TRUE(log->append_control(2, 5, /*commit=*/false, 0).ok());  // 7
  EXPECT_EQ(log->last_stable_offset(), 8);
  EXPECT_EQ(log->log_end_offset(), 8);
  EXPECT_EQ(code(log->append_control(2, 5, true, -1)), ErrorCode::kTransactionCoordinatorFenced);
  // A marker for a producer with no transaction is written and changes nothing else.
  auto stray = log->append_control(3, 0, false, 0);
  ASSERT_TRUE(stray.ok());
  EXPECT_EQ(log->last_stable_offset(), 9);

  std::vector<ProducerInfo> ps = log->producers();
  ASSERT_EQ(ps.size(), 3u);
  EXPECT_EQ(ps[0].producer_id, 1);
  EXPECT_EQ(ps[0].last_sequence, 1);
  EXPECT_EQ(ps[0].current_txn_start_offset, -1);
  EXPECT_EQ(ps[1].epoch, 5);
  EXPECT_EQ(ps[2].last_sequence, -1);
  // Only the abort is in the .txnindex: producer 2, [5, 7], LSO 8.
  EXPECT_EQ(std::filesystem::file_size(dir() / (segment_file_stem(0) + ".txnindex")), 34u);
}

TEST_F(LogIdempotenceTest, ReadCommittedStopsAtTheLastStableOffset) {
  auto log = open_log();
  plain(*log, 2);                                  // 0-1
  ASSERT_TRUE(send(*log, 1, 0, 0, 1, true).ok());  // 2
  plain(*log);                                     // 3
  ReadInfo info;
  EXPECT_EQ(read_offsets(*log, 0, true, 1 << 20, &info), (std::vector<int64_t>{0}));
  EXPECT_EQ(info.last_stable_offset, 2);
  EXPECT_EQ(info.high_watermark, 4);
  EXPECT_EQ(read_offsets(*log, 0, false), (std::vector<int64_t>{0, 2, 3}));
  EXPECT_TRUE(read_offsets(*log, 2, true).empty());
  EXPECT_TRUE(read_offsets(*log, 3, true).empty());
  auto old_api = log->read(0, 1 << 20, true);
  ASSERT_TRUE(old_api.ok());
  EXPECT_EQ(old_api->last_stable_offset, 2);
  ASSERT_TRUE(log->append_control(1, 0, true, 0).ok());  // 4
  EXPECT_EQ(read_offsets(*log, 0, true), (std::vector<int64_t>{0, 2, 3, 4}));
}

TEST_F(LogIdempotenceTest, AbortedTransactionsOverlappingTheReadAreListed) {
  config_.segment_bytes = 300;  // a few batches per segment: aborts span segments
  auto log = open_log();
  ASSERT_TRUE(send(*log, 1, 0, 0, 2, true).ok());         // 0-1 producer 1
  ASSERT_TRUE(send(*log, 2, 0, 0, 1, true).ok());         // 2   producer 2
  plain(*log);                                            // 3
  ASSERT_TRUE(send(*log, 1, 0, 2, 1, true).ok());         // 4
  ASSERT_TRUE(log->append_control(1, 0, false, 0).ok());  // 5: abort producer 1 [0, 5]
  plain(*log);                                            // 6
  ASSERT_TRUE(log->append_control(2, 0, false, 0).ok());  // 7: abort producer 2 [2, 7]
  plain(*log);                                            // 8
  ASSERT_GT(log->segment_base_offsets().size(), 2u);

  ReadInfo info;
  read_offsets(*log, 0, true, 1 << 20, &info);
  EXPECT_EQ(info.aborted, (std::vector<AbortedTxn>{{1, 0}, {2, 2}}));
  // One batch at 3: both transactions were open there.
  EXPECT_EQ(read_offsets(*log, 3, true, 1, &info), (std::vector<int64_t>{3}));
  EXPECT_EQ(info.aborted, (std::vector<AbortedTxn>{{1, 0}, {2, 2}}));
  // One batch at 6: only producer 2's abort is still ahead.
  EXPECT_EQ(read_offsets(*log, 6, true, 1, &info), (std::vector<int64_t>{6}));
  EXPECT_EQ(info.aborted, (std::vector<AbortedTxn>{{2, 2}}));
  EXPECT_EQ(read_offsets(*log, 8, true, 1, &info), (std::vector<int64_t>{8}));
  EXPECT_TRUE(info.aborted.empty());
  // read_uncommitted never lists them.
  read_offsets(*log, 0, false, 1 << 20, &info);
  EXPECT_TRUE(info.aborted.empty());
}

TEST_F(LogIdempotenceTest, CleanRestartLoadsTheSnapshotAndKeepsTheLastBatch) {
  config_.segment_bytes = 400;
  std::vector<AppendInfo> sent;
  int64_t end;
  {
    auto log = open_log();
    for (int i = 0; i < 12; ++i) {
      auto a = send(*log, 7, 1, i * 2, 2);
      ASSERT_TRUE(a.ok()) << a.status();
      sent.push_back(*a);
    }
    ASSERT_TRUE(send(*log, 8, 0, 0, 1, true).ok());
    end = log->log_end_offset();
    ASSERT_GT(log->segment_base_offsets().size(), 2u);
    // A snapshot at each roll, at the new segment's base.
    for (int64_t base : log->segment_base_offsets()) {
      if (base > 0) {
        EXPECT_TRUE(std::filesystem::exists(producer_snapshot_path(dir(), base)));
      }
    }
    ASSERT_TRUE(log->close().ok());
  }
  EXPECT_TRUE(std::filesystem::exists(producer_snapshot_path(dir(), end)));
  auto log = open_log();
  EXPECT_EQ(log->producer_scanned_batches(), 0);
  EXPECT_EQ(log->last_stable_offset(), end - 1);
  auto dup = send(*log, 7, 1, 22, 2);
  ASSERT_TRUE(dup.ok()) << dup.status();
  EXPECT_TRUE(dup->duplicate);
  EXPECT_EQ(dup->base_offset, sent.back().base_offset);
  // Only the last batch survives a snapshot (as in Kafka): an older retry is out of order.
  EXPECT_EQ(code(send(*log, 7, 1, 20, 2)), ErrorCode::kOutOfOrderSequenceNumber);
  EXPECT_TRUE(send(*log, 7, 1, 24, 1).ok());
}

TEST_F(LogIdempotenceTest, CorruptSnapshotIsDeletedAndAnOlderOneUsed) {
  config_.segment_bytes = 400;
  std::vector<ProducerInfo> before;
  int64_t end;
  {
    auto log = open_log();
    for (int i = 0; i < 12; ++i) ASSERT_TRUE(send(*log, 7, 1, i, 1, i >= 10).ok());
    ASSERT_TRUE(send(*log, 9, 0, 0).ok());
    end = log->log_end_offset();
    before = log->producers();
    ASSERT_TRUE(log->close().ok());
  }
  {
    std::fstream f(producer_snapshot_path(dir(), end),
                   std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(12);
    f.put('\x7f');
  }
  auto log = open_log();
  EXPECT_FALSE(std::filesystem::exists(producer_snapshot_path(dir(), end)));
  EXPECT_GT(log->producer_scanned_batches(), 0);
  std::vector<ProducerInfo> after = log->producers();
  ASSERT_EQ(after.size(), before.size());
  for (size_t i = 0; i < after.size(); ++i) EXPECT_EQ(key(after[i]), key(before[i]));
  EXPECT_EQ(log->last_stable_offset(), 10);
}

// A mixed workload over several segments: idempotent, transactional, commits and aborts.
void LogIdempotenceTest::workload(Log& log, int rounds, int32_t* seq) {
  for (int r = 0; r < rounds; ++r) {
    for (int64_t pid = 1; pid <= 3; ++pid) {
      const bool txn = pid != 3;
      auto a = send(log, pid, 0, seq[pid], 2, txn);
      ASSERT_TRUE(a.ok()) << a.status();
      seq[pid] += 2;
    }
    if (r % 2 == 1) {
      ASSERT_TRUE(log.append_control(1, 0, r % 4 == 1, 0).ok());
    }
    if (r % 3 == 2) {
      ASSERT_TRUE(log.append_control(2, 0, false, 0).ok());
    }
  }
}

TEST_F(LogIdempotenceTest, UncleanRecoveryMatchesARebuildFromScratch) {
  config_.segment_bytes = 600;
  int32_t seq[4] = {0, 0, 0, 0};
  const std::filesystem::path crashed = tmp_.path() / "crashed-0";
  {
    auto log = open_log();
    workload(*log, 20, seq);
    ASSERT_TRUE(log->flush().ok());
    // The image a crash leaves: everything written, no clean close.
    std::filesystem::copy(dir(), crashed, std::filesystem::copy_options::recursive);
  }
  // Tear the active segment's tail in the middle of its last batch.
  std::vector<int64_t> bases;
  for (const auto& e : std::filesystem::directory_iterator(crashed)) {
    if (e.path().extension() == ".log") bases.push_back(std::stoll(e.path().stem().string()));
  }
  std::sort(bases.begin(), bases.end());
  ASSERT_GT(bases.size(), 3u);
  auto last_log = crashed / (segment_file_stem(bases.back()) + ".log");
  std::filesystem::resize_file(last_log, std::filesystem::file_size(last_log) - 10);

  auto summary = [&](Log& log) {
    std::vector<std::tuple<int64_t, int16_t, int32_t, int64_t, int32_t, int64_t>> ps;
    for (const auto& p : log.producers()) ps.push_back(key(p));
    ReadInfo info;
    read_offsets(log, 0, true, 1 << 30, &info);
    return std::make_tuple(ps, log.log_end_offset(), log.last_stable_offset(), info.aborted);
  };
  decltype(summary(std::declval<Log&>())) recovered;
  {
    // Recovery point at the active segment: the snapshot at its base plus a scan of it.
    auto log = open_log(true, bases.back(), crashed);
    EXPECT_GT(log->recovered_batches(), 0);
    EXPECT_GT(log->producer_scanned_batches(), 0);
    EXPECT_LE(log->producer_scanned_batches(), log->recovered_batches());
    recovered = summary(*log);
    ASSERT_TRUE(log->close().ok());
  }
  // From scratch: no snapshots, no .txnindex, every segment scanned.
  for (const auto& e : std::filesystem::directory_iterator(crashed)) {
    if (e.path().extension() == ".snapshot" || e.path().extension() == ".txnindex") {
      std::filesystem::remove(e.path());
    }
  }
  auto log = open_log(true, 0, crashed);
  EXPECT_GT(log->producer_scanned_batches(), log->recovered_batches() / 2);
  auto scratch = summary(*log);
  EXPECT_EQ(std::get<0>(recovered), std::get<0>(scratch));
  EXPECT_EQ(std::get<1>(recovered), std::get<1>(scratch));
  EXPECT_EQ(std::get<2>(recovered), std::get<2>(scratch));
  EXPECT_EQ(std::get<3>(recovered), std::get<3>(scratch));
  EXPECT_FALSE(std::get<3>(scratch).empty());
  // And the producers keep going where the recovered log ends.
  EXPECT_TRUE(send(*log, 3, 0, log->producers()[2].last_sequence + 1).ok());
}

TEST_F(LogIdempotenceTest, SnapshotsAboveTheLogEndAreDeletedOnRecovery) {
  int64_t end;
  {
    auto log = open_log();
    for (int i = 0; i < 5; ++i) ASSERT_TRUE(send(*log, 4, 0, i).ok());
    end = log->log_end_offset();
    ASSERT_TRUE(log->close().ok());
  }
  ASSERT_TRUE(std::filesystem::exists(producer_snapshot_path(dir(), end)));
  auto seg = dir() / (segment_file_stem(0) + ".log");
  std::filesystem::resize_file(seg, std::filesystem::file_size(seg) - 5);
  auto log = open_log(true);
  EXPECT_EQ(log->log_end_offset(), end - 1);
  EXPECT_FALSE(std::filesystem::exists(producer_snapshot_path(dir(), end)));
  ASSERT_EQ(log->producers().size(), 1u);
  EXPECT_EQ(log->producers()[0].last_sequence, 3);
  EXPECT_TRUE(send(*log, 4, 0, 4).ok());
}

TEST_F(LogIdempotenceTest, RetentionDeletesSnapshotsWithTheirSegments) {
  config_.segment_bytes = 300;
  config_.retention_bytes = 600;
  auto log = open_log();
  for (int i = 0; i < 30; ++i) ASSERT_TRUE(send(*log, 4, 0, i).ok());
  ASSERT_GT(list_producer_snapshots(dir()).size(), 4u);
  auto deleted = log->apply_retention();
  ASSERT_TRUE(deleted.ok());
  ASSERT_GT(*deleted, 0);
  std::vector<int64_t> snaps = list_producer_snapshots(dir());
  ASSERT_GE(snaps.size(), 2u);
  EXPECT_GE(snaps.front(), log->log_start_offset());
}

TEST_F(LogIdempotenceTest, IdleProducersExpire) {
  config_.producer_id_expiration_ms = 1000;
  auto log = open_log();
  ASSERT_TRUE(send(*log, 1, 0, 0).ok());
  ASSERT_TRUE(send(*log, 2, 0, 0, 1, true).ok());
  clock_.advance(500);
  ASSERT_TRUE(send(*log, 3, 0, 0).ok());
  clock_.advance(600);
  EXPECT_EQ(log->expire_producers(), 1);
  std::vector<ProducerInfo> ps = log->producers();
  ASSERT_EQ(ps.size(), 2u);
  EXPECT_EQ(ps[0].producer_id, 2);  // in a transaction: kept
  EXPECT_EQ(ps[1].producer_id, 3);
  // Producer 1 is unknown now: any sequence is accepted, as Kafka does.
  EXPECT_TRUE(send(*log, 1, 0, 57).ok());
}

TEST_F(LogIdempotenceTest, CompactionKeepsTheAbortedTransactions) {
  config_.segment_bytes = 400;
  config_.compact = true;
  config_.retention_ms = -1;
  auto log = open_log();
  auto keyed = [&](int64_t pid, int32_t seq, bool txn, const std::string& key) -> int64_t {
    protocol::Record r;
    r.key = key;
    r.value = key + "-value";
    r.timestamp = clock_.now_ms();
    protocol::BatchOptions o;
    o.producer_id = pid;
    o.producer_epoch = pid < 0 ? -1 : 0;
    o.base_sequence = pid < 0 ? -1 : seq;
    o.transactional = txn;
    std::string b = *protocol::build_batch(o, {r});
    auto a = log->append(b);
    EXPECT_TRUE(a.ok()) << a.status();
    return a.ok() ? a->base_offset : -1;
  };
  for (int round = 0; round < 3; ++round) {
    for (int k = 0; k < 4; ++k) keyed(-1, 0, false, "k" + std::to_string(k));
  }
  const int64_t txn_offset = keyed(1, 0, true, "t");
  for (int k = 0; k < 6; ++k) keyed(-1, 0, false, "k" + std::to_string(k % 4));
  ASSERT_TRUE(log->append_control(1, 0, /*commit=*/false, 0).ok());
  for (int round = 0; round < 4; ++round) {
    for (int k = 0; k < 4; ++k) keyed(-1, 0, false, "k" + std::to_string(k));
  }
  ReadInfo before;
  read_offsets(*log, txn_offset, true, 1 << 20, &before);
  ASSERT_EQ(before.aborted, (std::vector<AbortedTxn>{{1, txn_offset}}));
  CompactOptions o;
  auto result = log->compact(o);
  ASSERT_TRUE(result.ok()) << result.status();
  ASSERT_TRUE(result->cleaned);
  ASSERT_LT(result->segments_after, result->segments_before);
  ReadInfo after;
  read_offsets(*log, txn_offset, true, 1 << 20, &after);
  EXPECT_EQ(after.aborted, before.aborted);
  ASSERT_TRUE(log->close().ok());
  log = open_log();
  read_offsets(*log, txn_offset, true, 1 << 20, &after);
  EXPECT_EQ(after.aborted, before.aborted);
}

TEST_F(LogIdempotenceTest, RetentionPassOfTheLogManagerExpiresProducers) {
  LogManagerOptions o;
  o.log_dirs = {tmp_.path() / "d"};
  o.default_config.producer_id_expiration_ms = 1000;
  auto manager = LogManager::open(o, &clock_);
  ASSERT_TRUE(manager.ok()) << manager.status();
  LogConfig c;
  c.producer_id_expiration_ms = 1000;
  auto log = (*manager)->get_or_create("t", 0, c);
  ASSERT_TRUE(log.ok()) << log.status();
  ASSERT_TRUE(send(**log, 1, 0, 0).ok());
  (*manager)->run_retention();
  EXPECT_EQ((*log)->producers().size(), 1u);
  clock_.advance(1000);
  (*manager)->run_retention();
  EXPECT_TRUE((*log)->producers().empty());
  ASSERT_TRUE((*manager)->shutdown().ok());
}

TEST_F(LogIdempotenceTest, ConcurrentReadCommittedNeverSeesPastTheLastStableOffset) {
  auto log = open_log();
  std::atomic<bool> done{false};
  std::atomic<int64_t> reads{0};
  auto write = [&] {
    // Without this wait the writer can finish before the reader is scheduled
    // at all on a loaded machine, and the test would check nothing.
    while (reads == 0) std::this_thread::yield();
    int32_t seq = 0;
    for (int i = 0; i < 300; ++i) {
      ASSERT_TRUE(send(*log, 1, 0, seq, 2, /*txn=*/true).ok());
      seq += 2;
      plain(*log);
      ASSERT_TRUE(log->append_control(1, 0, i % 3 != 0, 0).ok());
    }
  };
  // A failed assertion returns from write early; done must still be set.
  std::thread writer([&] {
    write();
    done = true;
  });
  do {
    const int64_t lso = log->last_stable_offset();
    EXPECT_LE(lso, log->log_end_offset());
    ReadInfo info;
    const int64_t from = std::max<int64_t>(0, lso - 8);
    std::vector<int64_t> bases = read_offsets(*log, from, true, 1 << 20, &info);
    EXPECT_LE(info.last_stable_offset, info.high_watermark);
    for (int64_t b : bases) EXPECT_LT(b, info.last_stable_offset);
    for (const AbortedTxn& a : info.aborted) EXPECT_EQ(a.producer_id, 1);
    ++reads;
  } while (!done);
  writer.join();
  EXPECT_GT(reads, 0);
  EXPECT_EQ(log->last_stable_offset(), log->log_end_offset());
}

}  // namespace
}  // namespace gregor::storage

// The transaction coordinator's state machine on a FakeClock with an in-memory
// __transaction_state and marker writer: every transition, fencing, timeouts, replay.
#include "coordinator/txn_coordinator.h"

#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <thread>

#include "coordinator/txn_records.h"

namespace gregor::coordinator {
namespace {

class FakeTxnLog : public TxnLog {
 public:
  struct Record {
    int32_t partition;
    std::string key;
    std::optional<std::string> value;
  };
  void append(int32_t partition, std::string key, std::optional<std::string> value,
              std::function<void(absl::Status)> done) override {
    {
      std::lock_guard lock(mu);
      if (fail) {
        failures++;
      } else {
        records.push_back({partition, key, value});
      }
      if (hold) {
        held.push_back(std::move(done));
        return;
      }
    }
    done(fail ? absl::UnavailableError("disk on fire") : absl::OkStatus());
  }
  void release() {
    std::vector<std::function<void(absl::Status)>> all;
    {
      std::lock_guard lock(mu);
      all.swap(held);
    }
    for (auto& d : all) d(absl::OkStatus());
  }
  // The state the last record of `tid` holds, decoded.
  std::optional<TxnMetadata> last(const std::string& tid) {
    std::lock_guard lock(mu);
    for (auto it = records.rbegin(); it != records.rend(); ++it) {
      if (*decode_txn_key(it->key) != tid) continue;
      if (!it->value) return std::nullopt;
      return *decode_txn_value(tid, *it->value);
    }
    return std::nullopt;
  }
  void replay_into(TxnCoordinator& c) {
    for (const auto& r : records) {
      std::optional<std::string_view> v;
      if (r.value) v = *r.value;
      ASSERT_TRUE(c.load(r.key, v).ok());
    }
  }

  std::mutex mu;
  std::vector<Record> records;
  std::vector<std::function<void(absl::Status)>> held;
  bool hold = false;
  bool fail = false;
  int failures = 0;
};

class FakeMarkers : public TxnMarkerWriter {
 public:
  struct Write {
    int64_t producer_id;
    int16_t epoch;
    bool commit;
    std::vector<TopicPartition> partitions;
  };
  void write_markers(int64_t producer_id, int16_t producer_epoch, bool commit, int32_t,
                     std::vector<TopicPartition> partitions,
                     std::function<void(absl::Status)> done) override {
    {
      std::lock_guard lock(mu);
      if (!fail) writes.push_back({producer_id, producer_epoch, commit, partitions});
    }
    if (before_done) before_done();
    if (hold) {
      std::lock_guard lock(mu);
      held.push_back(std::move(done));
      return;
    }
    done(fail ? absl::UnavailableError("partition offline") : absl::OkStatus());
  }
  // Completes the held writes with `status`.
  void release(absl::Status status = absl::OkStatus()) {
    std::vector<std::function<void(absl::Status)>> all;
    {
      std::lock_guard lock(mu);
      all.swap(held);
    }
    for (auto& d : all) d(status);
  }
  std::mutex mu;
  std::vector<Write> writes;
  std::vector<std::function<void(absl::Status)>> held;
  bool hold = false;  // writes complete only on release()
  bool fail = false;
  std::function<void()> before_done;  // runs once the markers are "written", before done
};

class TxnCoordinatorTest : public ::testing::Test {
 protected:
  TxnCoordinatorTest() { reset(); }
  void reset() {
    TxnConfig c;
    c.abort_check_interval_ms = 1000;
    c.expire_check_interval_ms = 1000;
    c.id_expiration_ms = 60000;
    c.max_timeout_ms = 60000;
    coord = std::make_unique<TxnCoordinator>(c, &clock, &log, &markers,
                                             [this]() -> absl::StatusOr<int64_t> {
                                               if (ids_exhausted)
                                                 return absl::UnavailableError("no ids");
                                               return next_id++;
                                             });
  }
  InitProducerIdResult init(std::optional<std::string> tid, int64_t pid = -1, int16_t epoch = -1,
                            int32_t timeout = 10000) {
    InitProducerIdRequest r;
    r.transactional_id = std::move(tid);
    r.timeout_ms = timeout;
    r.producer_id = pid;
    r.producer_epoch = epoch;
    std::optional<InitProducerIdResult> out;
    coord->init_producer_id(r, [&](InitProducerIdResult res) { out = res; });
    EXPECT_TRUE(out.has_value());
    return out.value_or(InitProducerIdResult{ErrorCode::kUnknownServerError});
  }
  ErrorCode add(const std::string& tid, int64_t pid, int16_t epoch,
                std::vector<TopicPartition> tps) {
    std::optional<ErrorCode> out;
    coord->add_partitions(tid, pid, epoch, tps, [&](ErrorCode e) { out = e; });
    EXPECT_TRUE(out.has_value());
    return out.value_or(ErrorCode::kUnknownServerError);
  }
  ErrorCode end(const std::string& tid, int64_t pid, int16_t epoch, bool commit) {
    std::optional<ErrorCode> out;
    coord->end_txn(tid, pid, epoch, commit, [&](ErrorCode e) { out = e; });
    EXPECT_TRUE(out.has_value());
    return out.value_or(ErrorCode::kUnknownServerError);
  }
  TxnState state(const std::string& tid) { return coord->describe(tid).metadata.state; }

  storage::FakeClock clock;
  FakeTxnLog log;
  FakeMarkers markers;
  int64_t next_id = 1000;
  bool ids_exhausted = false;
  std::unique_ptr<TxnCoordinator> coord;
};

const std::vector<TopicPartition> kThree = {{"t", 0}, {"t", 1}, {"t", 2}};

TEST_F(TxnCoordinatorTest, IdempotentProducersGetDistinctIdsAtEpochZero) {
  auto a = init(std::nullopt);
  auto b = init(std::nullopt);
  EXPECT_EQ(a.error, ErrorCode::kNone);
  EXPECT_EQ(a.producer_epoch, 0);
  EXPECT_EQ(b.producer_epoch, 0);
  EXPECT_NE(a.producer_id, b.producer_id);
  EXPECT_TRUE(log.records.empty());  // idempotent producers leave no transaction state
  ids_exhausted = true;
  EXPECT_EQ(init(std::nullopt).error, ErrorCode::kCoordinatorNotAvailable);
}

TEST_F(TxnCoordinatorTest, InitValidatesIdAndTimeout) {
  EXPECT_EQ(init("").error, ErrorCode::kInvalidRequest);
  EXPECT_EQ(init("x", -1, -1, 0).error, ErrorCode::kInvalidTransactionTimeout);
  EXPECT_EQ(init("x", -1, -1, 60001).error, ErrorCode::kInvalidTransactionTimeout);
  EXPECT_EQ(coord->describe("x").error, ErrorCode::kTransactionalIdNotFound);
}

TEST_F(TxnCoordinatorTest, TransactionalInitPersistsAndBumpsTheEpoch) {
  auto first = init("tx");
  ASSERT_EQ(first.error, ErrorCode::kNone);
  EXPECT_EQ(first.producer_epoch, 0);
  auto persisted = log.last("tx");
  ASSERT_TRUE(persisted);
  EXPECT_EQ(persisted->producer_id, first.producer_id);
  EXPECT_EQ(persisted->state, TxnState::kEmpty);
  EXPECT_EQ(log.records.back().partition, coord->partition_for("tx"));
  auto second = init("tx");
  EXPECT_EQ(second.producer_id, first.producer_id);
  EXPECT_EQ(second.producer_epoch, 1);
  // The first instance is now a zombie.
  EXPECT_EQ(add("tx", first.producer_id, 0, kThree), ErrorCode::kProducerFenced);
  EXPECT_EQ(end("tx", first.producer_id, 0, true), ErrorCode::kProducerFenced);
}

TEST_F(TxnCoordinatorTest, CommitWritesPrepareMarkersThenComplete) {
  auto p = init("tx");
  ASSERT_EQ(add("tx", p.producer_id, p.producer_epoch, {{"t", 0}}), ErrorCode::kNone);
  ASSERT_EQ(add("tx", p.producer_id, p.producer_epoch, {{"t", 1}, {"t", 2}}), ErrorCode::kNone);
  EXPECT_EQ(state("tx"), TxnState::kOngoing);
  EXPECT_EQ(log.last("tx")->partitions.size(), 3u);
  const size_t writes = log.records.size();
  // Already in the transaction: answered without a write.
  EXPECT_EQ(add("tx", p.producer_id, p.producer_epoch, {{"t", 1}}), ErrorCode::kNone);
  EXPECT_EQ(log.records.size(), writes);

  ASSERT_EQ(end("tx", p.producer_id, p.producer_epoch, true), ErrorCode::kNone);
  ASSERT_EQ(log.records.size(), writes + 2);
  EXPECT_EQ(decode_txn_value("tx", *log.records[writes].value)->state, TxnState::kPrepareCommit);
  EXPECT_EQ(log.last("tx")->state, TxnState::kCompleteCommit);
  EXPECT_TRUE(log.last("tx")->partitions.empty());
  ASSERT_EQ(markers.writes.size(), 1u);
  EXPECT_TRUE(markers.writes[0].commit);
  EXPECT_EQ(markers.writes[0].producer_id, p.producer_id);
  EXPECT_EQ(markers.writes[0].epoch, p.producer_epoch);
  EXPECT_EQ(markers.writes[0].partitions, kThree);
  EXPECT_EQ(state("tx"), TxnState::kCompleteCommit);
  // A retry of the same end is fine; the other one is not.
  EXPECT_EQ(end("tx", p.producer_id, p.producer_epoch, true), ErrorCode::kNone);
  EXPECT_EQ(end("tx", p.producer_id, p.producer_epoch, false), ErrorCode::kInvalidTxnState);
  // The next transaction starts from CompleteCommit.
  EXPECT_EQ(add("tx", p.producer_id, p.producer_epoch, {{"u", 0}}), ErrorCode::kNone);
  EXPECT_EQ(coord->describe("tx").metadata.partitions.size(), 1u);
  ASSERT_EQ(end("tx", p.producer_id, p.producer_epoch, false), ErrorCode::kNone);
  EXPECT_FALSE(markers.writes.back().commit);
  EXPECT_EQ(state("tx"), TxnState::kCompleteAbort);
}

TEST_F(TxnCoordinatorTest, EndIsAnsweredOnceDecidedAndTheIdsNextRequestsWaitForTheMarkers) {
  auto p = init("tx");
  ASSERT_EQ(add("tx", p.producer_id, p.producer_epoch, kThree), ErrorCode::kNone);
  markers.hold = true;
  // Answered with the decision durable and no marker written yet, as Kafka answers.
  ASSERT_EQ(end("tx", p.producer_id, p.producer_epoch, true), ErrorCode::kNone);
  EXPECT_EQ(state("tx"), TxnState::kPrepareCommit);
  EXPECT_EQ(log.last("tx")->state, TxnState::kPrepareCommit);
  ASSERT_EQ(markers.held.size(), 1u);
  // A retried EndTxn and the producer's next transaction wait for the markers rather than
  // being told CONCURRENT_TRANSACTIONS; a fenced epoch is still answered at once.
  std::optional<ErrorCode> retry, next;
  coord->end_txn("tx", p.producer_id, p.producer_epoch, true, [&](ErrorCode e) { retry = e; });
  coord->add_partitions("tx", p.producer_id, p.producer_epoch, {{"u", 0}},
                        [&](ErrorCode e) { next = e; });
  EXPECT_EQ(add("tx", p.producer_id, p.producer_epoch - 1, {{"u", 0}}), ErrorCode::kProducerFenced);
  EXPECT_FALSE(retry);
  EXPECT_FALSE(next);
  markers.hold = false;
  markers.release();
  EXPECT_EQ(retry, ErrorCode::kNone);
  EXPECT_EQ(next, ErrorCode::kNone);
  EXPECT_EQ(state("tx"), TxnState::kOngoing);
  EXPECT_EQ(coord->describe("tx").metadata.partitions.size(), 1u);
  // The next transaction's record follows the Complete one.
  const size_t n = log.records.size();
  EXPECT_EQ(decode_txn_value("tx", *log.records[n - 3].value)->state, TxnState::kPrepareCommit);
  EXPECT_EQ(decode_txn_value("tx", *log.records[n - 2].value)->state, TxnState::kCompleteCommit);
  EXPECT_EQ(decode_txn_value("tx", *log.records[n - 1].value)->state, TxnState::kOngoing);
}

TEST_F(TxnCoordinatorTest, NewInstanceWaitsForTheMarkersOfTheLastTransaction) {
  auto old = init("tx");
  ASSERT_EQ(add("tx", old.producer_id, old.producer_epoch, kThree), ErrorCode::kNone);
  markers.hold = true;
  ASSERT_EQ(end("tx", old.producer_id, old.producer_epoch, false), ErrorCode::kNone);
  std::optional<InitProducerIdResult> fresh;
  InitProducerIdRequest r;
  r.transactional_id = "tx";
  r.timeout_ms = 10000;
  coord->init_producer_id(r, [&](InitProducerIdResult res) { fresh = res; });
  EXPECT_FALSE(fresh);
  markers.hold = false;
  markers.release();
  ASSERT_TRUE(fresh);
  EXPECT_EQ(fresh->error, ErrorCode::kNone);
  EXPECT_EQ(fresh->producer_epoch, old.producer_epoch + 1);
  EXPECT_EQ(state("tx"), TxnState::kEmpty);
}

TEST_F(TxnCoordinatorTest, RequestsWaitingForFailedMarkersAreAnsweredConcurrentTransactions) {
  auto p = init("tx");
  ASSERT_EQ(add("tx", p.producer_id, p.producer_epoch, kThree), ErrorCode::kNone);
  markers.hold = true;
  ASSERT_EQ(end("tx", p.producer_id, p.producer_epoch, true), ErrorCode::kNone);
  std::optional<ErrorCode> next;
  coord->add_partitions("tx", p.producer_id, p.producer_epoch, {{"u", 0}},
                        [&](ErrorCode e) { next = e; });
  EXPECT_FALSE(next);
  markers.hold = false;
  markers.release(absl::UnavailableError("partition offline"));
  // Not left waiting for the retry of the markers: the client backs off and asks again.
  EXPECT_EQ(next, ErrorCode::kConcurrentTransactions);
  EXPECT_EQ(state("tx"), TxnState::kPrepareCommit);
  clock.advance(1000);
  coord->tick();
  EXPECT_EQ(state("tx"), TxnState::kCompleteCommit);
  EXPECT_EQ(add("tx", p.producer_id, p.producer_epoch, {{"u", 0}}), ErrorCode::kNone);
}

TEST_F(TxnCoordinatorTest, CompleteLostInACrashIsRedoneFromThePrepareState) {
  auto p = init("tx");
  ASSERT_EQ(add("tx", p.producer_id, p.producer_epoch, kThree), ErrorCode::kNone);
  markers.before_done = [this] { log.fail = true; };
  ASSERT_EQ(end("tx", p.producer_id, p.producer_epoch, true), ErrorCode::kNone);
  markers.before_done = nullptr;
  log.fail = false;
  EXPECT_EQ(log.last("tx")->state, TxnState::kPrepareCommit);
  // A restart replays the log, which ends at PrepareCommit: the markers go out again.
  reset();
  log.replay_into(*coord);
  coord->complete_load();
  ASSERT_EQ(markers.writes.size(), 2u);
  EXPECT_TRUE(markers.writes[1].commit);
  EXPECT_EQ(markers.writes[1].partitions, kThree);
  EXPECT_EQ(state("tx"), TxnState::kCompleteCommit);
  EXPECT_EQ(log.last("tx")->state, TxnState::kCompleteCommit);
}

TEST_F(TxnCoordinatorTest, VerifyPartitionAnswersAsKafkasVerification) {
  auto p = init("tx");
  const TopicPartition t0{"t", 0};
  EXPECT_EQ(coord->verify_partition("", p.producer_id, p.producer_epoch, t0),
            ErrorCode::kInvalidRequest);
  EXPECT_EQ(coord->verify_partition("nope", p.producer_id, p.producer_epoch, t0),
            ErrorCode::kInvalidProducerIdMapping);
  EXPECT_EQ(coord->verify_partition("tx", p.producer_id + 1, p.producer_epoch, t0),
            ErrorCode::kInvalidProducerIdMapping);
  EXPECT_EQ(coord->verify_partition("tx", p.producer_id, p.producer_epoch, t0),
            ErrorCode::kInvalidTxnState);  // Empty: no transaction
  ASSERT_EQ(add("tx", p.producer_id, p.producer_epoch, {t0}), ErrorCode::kNone);
  EXPECT_EQ(coord->verify_partition("tx", p.producer_id, p.producer_epoch, t0), ErrorCode::kNone);
  EXPECT_EQ(coord->verify_partition("tx", p.producer_id, p.producer_epoch, {"t", 1}),
            ErrorCode::kInvalidTxnState);
  EXPECT_EQ(coord->verify_partition("tx", p.producer_id, p.producer_epoch - 1, t0),
            ErrorCode::kProducerFenced);
  // While the end is being decided the partition is still in the transaction; once decided the
  // transaction is ending.
  log.hold = true;
  std::optional<ErrorCode> ended;
  coord->end_txn("tx", p.producer_id, p.producer_epoch, true, [&](ErrorCode e) { ended = e; });
  EXPECT_EQ(coord->verify_partition("tx", p.producer_id, p.producer_epoch, t0), ErrorCode::kNone);
  markers.before_done = [&] {
    EXPECT_EQ(coord->verify_partition("tx", p.producer_id, p.producer_epoch, t0),
              ErrorCode::kConcurrentTransactions);
  };
  log.hold = false;
  log.release();
  markers.before_done = nullptr;
  EXPECT_EQ(ended, ErrorCode::kNone);
  EXPECT_EQ(coord->verify_partition("tx", p.producer_id, p.producer_epoch, t0),
            ErrorCode::kInvalidTxnState);  // CompleteCommit
}

TEST_F(TxnCoordinatorTest, RequestsForUnknownOrMismatchedProducersAreRefused) {
  EXPECT_EQ(add("nope", 1, 0, kThree), ErrorCode::kInvalidProducerIdMapping);
  EXPECT_EQ(end("nope", 1, 0, true), ErrorCode::kInvalidProducerIdMapping);
  EXPECT_EQ(add("", 1, 0, kThree), ErrorCode::kInvalidRequest);
  auto p = init("tx");
  EXPECT_EQ(add("tx", p.producer_id + 1, p.producer_epoch, kThree),
            ErrorCode::kInvalidProducerIdMapping);
  EXPECT_EQ(add("tx", p.producer_id, p.producer_epoch + 1, kThree), ErrorCode::kProducerFenced);
  // Ending a transaction that never started.
  EXPECT_EQ(end("tx", p.producer_id, p.producer_epoch, true), ErrorCode::kInvalidTxnState);
  EXPECT_TRUE(markers.writes.empty());
  EXPECT_EQ(state("tx"), TxnState::kEmpty);
}

TEST_F(TxnCoordinatorTest, TransitionInFlightAnswersConcurrentTransactions) {
  auto p = init("tx");
  log.hold = true;
  std::optional<ErrorCode> first;
  coord->add_partitions("tx", p.producer_id, p.producer_epoch, kThree,
                        [&](ErrorCode e) { first = e; });
  EXPECT_FALSE(first);
  EXPECT_EQ(add("tx", p.producer_id, p.producer_epoch, kThree), ErrorCode::kConcurrentTransactions);
  EXPECT_EQ(end("tx", p.producer_id, p.producer_epoch, true), ErrorCode::kConcurrentTransactions);
  EXPECT_EQ(init("tx").error, ErrorCode::kConcurrentTransactions);
  log.hold = false;
  log.release();
  EXPECT_EQ(first, ErrorCode::kNone);
  EXPECT_EQ(state("tx"), TxnState::kOngoing);
}

TEST_F(TxnCoordinatorTest, FailedWriteLeavesStateUnchanged) {
  auto p = init("tx");
  log.fail = true;
  EXPECT_EQ(add("tx", p.producer_id, p.producer_epoch, kThree),
            ErrorCode::kCoordinatorNotAvailable);
  EXPECT_EQ(state("tx"), TxnState::kEmpty);
  log.fail = false;
  EXPECT_EQ(add("tx", p.producer_id, p.producer_epoch, kThree), ErrorCode::kNone);
}

TEST_F(TxnCoordinatorTest, NewInstanceFencesAndAbortsTheOngoingTransaction) {
  auto old = init("tx");
  ASSERT_EQ(add("tx", old.producer_id, old.producer_epoch, kThree), ErrorCode::kNone);
  // The new instance is told to retry while the old transaction is aborted with epoch + 1.
  EXPECT_EQ(init("tx").error, ErrorCode::kConcurrentTransactions);
  ASSERT_EQ(markers.writes.size(), 1u);
  EXPECT_FALSE(markers.writes[0].commit);
  EXPECT_EQ(markers.writes[0].epoch, old.producer_epoch + 1);
  EXPECT_EQ(state("tx"), TxnState::kCompleteAbort);
  auto fresh = init("tx");
  ASSERT_EQ(fresh.error, ErrorCode::kNone);
  EXPECT_EQ(fresh.producer_id, old.producer_id);
  EXPECT_EQ(fresh.producer_epoch, old.producer_epoch + 2);
  EXPECT_EQ(end("tx", old.producer_id, old.producer_epoch, true), ErrorCode::kProducerFenced);
}

TEST_F(TxnCoordinatorTest, TimedOutTransactionIsAbortedAndItsProducerFenced) {
  auto p = init("tx", -1, -1, 5000);
  ASSERT_EQ(add("tx", p.producer_id, p.producer_epoch, kThree), ErrorCode::kNone);
  clock.advance(4000);
  coord->tick();
  EXPECT_EQ(state("tx"), TxnState::kOngoing);
  clock.advance(2000);
  coord->tick();
  EXPECT_EQ(state("tx"), TxnState::kCompleteAbort);
  ASSERT_EQ(markers.writes.size(), 1u);
  EXPECT_FALSE(markers.writes[0].commit);
  EXPECT_EQ(markers.writes[0].epoch, p.producer_epoch + 1);
  EXPECT_EQ(end("tx", p.producer_id, p.producer_epoch, true), ErrorCode::kProducerFenced);
  EXPECT_GT(coord->next_deadline_ms(), clock.now_ms());
}

TEST_F(TxnCoordinatorTest, ReplayRestoresStateAndCompletesDecidedTransactions) {
  auto a = init("a");
  ASSERT_EQ(add("a", a.producer_id, a.producer_epoch, kThree), ErrorCode::kNone);  // Ongoing
  auto b = init("b");
  ASSERT_EQ(add("b", b.producer_id, b.producer_epoch, {{"t", 0}}), ErrorCode::kNone);
  // b's decision is durable but the broker dies before its markers: only Prepare is logged.
  markers.fail = true;
  ASSERT_EQ(end("b", b.producer_id, b.producer_epoch, true), ErrorCode::kNone);
  EXPECT_EQ(state("b"), TxnState::kPrepareCommit);
  markers.fail = false;

  reset();
  log.replay_into(*coord);
  auto da = coord->describe("a");
  EXPECT_EQ(da.metadata.state, TxnState::kOngoing);
  EXPECT_EQ(da.metadata.producer_id, a.producer_id);
  EXPECT_EQ(da.metadata.partitions.size(), 3u);
  EXPECT_EQ(state("b"), TxnState::kPrepareCommit);
  coord->complete_load();
  ASSERT_EQ(markers.writes.size(), 1u);
  EXPECT_TRUE(markers.writes[0].commit);
  EXPECT_EQ(markers.writes[0].producer_id, b.producer_id);
  EXPECT_EQ(state("b"), TxnState::kCompleteCommit);
  // The restored producer carries on.
  EXPECT_EQ(end("a", a.producer_id, a.producer_epoch, false), ErrorCode::kNone);
}

TEST_F(TxnCoordinatorTest, FailedMarkersAreRetriedByTick) {
  auto p = init("tx");
  ASSERT_EQ(add("tx", p.producer_id, p.producer_epoch, kThree), ErrorCode::kNone);
  markers.fail = true;
  // The decision is durable, so the producer hears success.
  EXPECT_EQ(end("tx", p.producer_id, p.producer_epoch, true), ErrorCode::kNone);
  EXPECT_EQ(state("tx"), TxnState::kPrepareCommit);
  EXPECT_EQ(add("tx", p.producer_id, p.producer_epoch, kThree), ErrorCode::kConcurrentTransactions);
  markers.fail = false;
  clock.advance(1000);
  coord->tick();
  EXPECT_EQ(markers.writes.size(), 1u);
  EXPECT_EQ(state("tx"), TxnState::kCompleteCommit);
}

TEST_F(TxnCoordinatorTest, IdleIdsExpire) {
  auto p = init("tx", -1, -1, 60000);
  ASSERT_EQ(add("tx", p.producer_id, p.producer_epoch, kThree), ErrorCode::kNone);
  clock.advance(59000);
  coord->tick();  // Ongoing ids never expire (the timeout aborts them first)
  ASSERT_EQ(end("tx", p.producer_id, p.producer_epoch, true), ErrorCode::kNone);
  clock.advance(30000);
  coord->tick();
  EXPECT_EQ(state("tx"), TxnState::kCompleteCommit);
  clock.advance(31000);
  coord->tick();
  EXPECT_EQ(coord->describe("tx").error, ErrorCode::kTransactionalIdNotFound);
  EXPECT_FALSE(log.records.back().value);  // a tombstone
  // A new producer with the same id starts over with a new producer id.
  auto again = init("tx");
  EXPECT_NE(again.producer_id, p.producer_id);
  EXPECT_EQ(again.producer_epoch, 0);
}

TEST_F(TxnCoordinatorTest, Kip360RecoveryWithTheCurrentOrLastEpoch) {
  auto p = init("tx");
  auto bumped = init("tx", p.producer_id, p.producer_epoch);
  ASSERT_EQ(bumped.error, ErrorCode::kNone);
  EXPECT_EQ(bumped.producer_epoch, p.producer_epoch + 1);
  // The answer was lost and the producer retries with the epoch it had: same epoch back.
  auto retry = init("tx", p.producer_id, p.producer_epoch);
  EXPECT_EQ(retry.error, ErrorCode::kNone);
  EXPECT_EQ(retry.producer_epoch, bumped.producer_epoch);
  EXPECT_EQ(init("tx", p.producer_id, 77).error, ErrorCode::kProducerFenced);
  EXPECT_EQ(init("tx", p.producer_id + 5, bumped.producer_epoch).error, ErrorCode::kProducerFenced);
}

TEST_F(TxnCoordinatorTest, ExhaustedEpochRotatesTheProducerId) {
  TxnMetadata md;
  md.transactional_id = "tx";
  md.producer_id = 7;
  md.producer_epoch = 32766;
  md.timeout_ms = 10000;
  md.state = TxnState::kCompleteCommit;
  ASSERT_TRUE(coord->load(encode_txn_key("tx"), encode_txn_value(md)).ok());
  auto r = init("tx");
  ASSERT_EQ(r.error, ErrorCode::kNone);
  EXPECT_NE(r.producer_id, 7);
  EXPECT_EQ(r.producer_epoch, 0);
}

TEST_F(TxnCoordinatorTest, ListFiltersByStateProducerAndDuration) {
  auto a = init("a");
  auto b = init("b");
  ASSERT_EQ(add("b", b.producer_id, b.producer_epoch, kThree), ErrorCode::kNone);
  clock.advance(500);
  EXPECT_EQ(coord->list({}, {}, -1).size(), 2u);
  auto ongoing = coord->list({TxnState::kOngoing}, {}, -1);
  ASSERT_EQ(ongoing.size(), 1u);
  EXPECT_EQ(ongoing[0].transactional_id, "b");
  EXPECT_EQ(coord->list({}, {a.producer_id}, -1)[0].transactional_id, "a");
  EXPECT_EQ(coord->list({}, {}, 400).size(), 1u);
  EXPECT_TRUE(coord->list({}, {}, 600).empty());
  EXPECT_EQ(txn_state_from_name("PrepareCommit"), TxnState::kPrepareCommit);
  EXPECT_FALSE(txn_state_from_name("Bogus"));
}

TEST_F(TxnCoordinatorTest, RecordsRoundTripAndRejectGarbage) {
  TxnMetadata md;
  md.transactional_id = "tx";
  md.producer_id = 42;
  md.producer_epoch = 3;
  md.timeout_ms = 60000;
  md.state = TxnState::kOngoing;
  md.partitions = {{"a", 1}, {"a", 0}, {"b", 9}};
  md.start_ms = 100;
  md.last_update_ms = 200;
  auto back = decode_txn_value("tx", encode_txn_value(md));
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->partitions, md.partitions);
  EXPECT_EQ(back->state, TxnState::kOngoing);
  EXPECT_EQ(back->start_ms, 100);
  EXPECT_EQ(*decode_txn_key(encode_txn_key("tx")), "tx");
  EXPECT_FALSE(decode_txn_key(std::string("\x00\x01", 2)).ok());
  EXPECT_FALSE(decode_txn_value("tx", std::string("\x00\x00\x01", 3)).ok());
  EXPECT_FALSE(coord->load(encode_txn_key("tx"), std::string_view("\x00\x09", 2)).ok());
}

TEST_F(TxnCoordinatorTest, ConcurrentProducersSmoke) {
  std::atomic<bool> stop{false};
  std::thread ticker([&] {
    while (!stop) coord->tick();
  });
  std::vector<std::thread> producers;
  std::atomic<int> committed{0};
  for (int t = 0; t < 4; ++t) {
    producers.emplace_back([&, t] {
      const std::string tid = "tx" + std::to_string(t);
      auto p = init(tid);
      for (int i = 0; i < 50; ++i) {
        if (add(tid, p.producer_id, p.producer_epoch, {{"t", i % 3}}) != ErrorCode::kNone) return;
        if (end(tid, p.producer_id, p.producer_epoch, i % 2 == 0) == ErrorCode::kNone) ++committed;
      }
    });
  }
  for (auto& p : producers) p.join();
  stop = true;
  ticker.join();
  EXPECT_EQ(committed.load(), 200);
  EXPECT_EQ(markers.writes.size(), 200u);
}

}  // namespace
}  // namespace gregor::coordinator

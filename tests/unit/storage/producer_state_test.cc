// Tests for ProducerStateManager: Kafka's idempotence and transaction rules one by one,
// expiry, and the snapshot encoding (round trip, corruption, the last-batch-only rule).
#include "storage/producer_state.h"

#include <gtest/gtest.h>

#include <limits>

#include "storage/kafka_error.h"
#include "storage/producer_snapshot.h"

namespace gregor::storage {
namespace {

using protocol::ErrorCode;

class ProducerStateTest : public ::testing::Test {
 protected:
  // A data batch of `n` records from `pid` at the next offset.
  ProducerBatchFacts data(int64_t pid, int16_t epoch, int32_t first_seq, int32_t n = 1,
                          bool txn = false) {
    ProducerBatchFacts b;
    b.producer_id = pid;
    b.epoch = epoch;
    b.first_seq = first_seq;
    b.last_seq = increment_sequence(first_seq, n - 1);
    b.first_offset = next_;
    b.last_offset = next_ + n - 1;
    b.max_timestamp = now_;
    b.transactional = txn;
    return b;
  }
  ProducerBatchFacts marker(int64_t pid, int16_t epoch, bool commit, int32_t coordinator_epoch) {
    ProducerBatchFacts b;
    b.producer_id = pid;
    b.epoch = epoch;
    b.first_offset = b.last_offset = next_;
    b.max_timestamp = now_;
    b.transactional = b.control = true;
    b.marker = protocol::ControlMarker{commit, coordinator_epoch};
    return b;
  }
  // prepare + apply as the log does; the error code if refused.
  std::optional<ErrorCode> append(const ProducerBatchFacts& b,
                                  AppendOrigin origin = AppendOrigin::kClient,
                                  std::optional<CompletedTxn>* completed = nullptr) {
    auto u = psm_.prepare(b, origin);
    if (!u.ok()) {
      auto code = kafka_error_code(u.status());
      EXPECT_TRUE(code.has_value()) << u.status();
      return code.value_or(ErrorCode::kUnknownServerError);
    }
    if (completed) *completed = u->completed;
    psm_.apply(*std::move(u));
    next_ = b.last_offset + 1;
    return std::nullopt;
  }

  ProducerStateManager psm_;
  int64_t next_ = 0;
  int64_t now_ = 1000;
};

TEST_F(ProducerStateTest, SequencesMustFollowWithinAnEpoch) {
  EXPECT_EQ(append(data(1, 0, 0, 3)), std::nullopt);
  EXPECT_EQ(append(data(1, 0, 3, 2)), std::nullopt);
  EXPECT_EQ(psm_.find(1)->last_seq(), 4);
  EXPECT_EQ(append(data(1, 0, 6)), ErrorCode::kOutOfOrderSequenceNumber);  // gap
  EXPECT_EQ(append(data(1, 0, 4)), ErrorCode::kOutOfOrderSequenceNumber);  // overlap
  EXPECT_EQ(append(data(1, 0, 5)), std::nullopt);
}

TEST_F(ProducerStateTest, DuplicatesOfTheLastFiveBatchesAreFound) {
  std::vector<ProducerBatchFacts> sent;
  for (int i = 0; i < 6; ++i) {
    sent.push_back(data(7, 2, i * 2, 2));
    ASSERT_EQ(append(sent.back()), std::nullopt);
  }
  // The oldest batch fell out of the cache; the five after it are recognised.
  EXPECT_FALSE(psm_.find_duplicate(sent[0]).has_value());
  for (int i = 1; i < 6; ++i) {
    auto dup = psm_.find_duplicate(sent[i]);
    ASSERT_TRUE(dup.has_value()) << i;
    EXPECT_EQ(dup->first_offset, sent[i].first_offset);
    EXPECT_EQ(dup->last_offset, sent[i].last_offset);
  }
  // Same range, other epoch or other length: not a duplicate.
  ProducerBatchFacts other_epoch = sent[5];
  other_epoch.epoch = 3;
  EXPECT_FALSE(psm_.find_duplicate(other_epoch).has_value());
  EXPECT_FALSE(psm_.find_duplicate(data(7, 2, 10, 1)).has_value());
  // The evicted batch is rejected as out of order when retried.
  EXPECT_EQ(append(sent[0]), ErrorCode::kOutOfOrderSequenceNumber);
}

TEST_F(ProducerStateTest, EpochRules) {
  EXPECT_EQ(append(data(1, 5, 0, 4)), std::nullopt);
  EXPECT_EQ(append(data(1, 4, 4)), ErrorCode::kInvalidProducerEpoch);
  // A bumped epoch restarts at 0 and forgets the old epoch's batches.
  EXPECT_EQ(append(data(1, 6, 4)), ErrorCode::kOutOfOrderSequenceNumber);
  EXPECT_EQ(append(data(1, 6, 0)), std::nullopt);
  EXPECT_EQ(psm_.find(1)->epoch, 6);
  EXPECT_EQ(psm_.find(1)->batches.size(), 1u);
  EXPECT_EQ(append(data(1, 5, 4)), ErrorCode::kInvalidProducerEpoch);
}

TEST_F(ProducerStateTest, UnknownProducerMayStartAnywhere) {
  // As Kafka: no state (expired, or deleted by retention) accepts any sequence.
  EXPECT_EQ(append(data(3, 2, 1234)), std::nullopt);
  EXPECT_EQ(append(data(3, 2, 1236)), ErrorCode::kOutOfOrderSequenceNumber);
  EXPECT_EQ(append(data(3, 2, 1235)), std::nullopt);
}

TEST_F(ProducerStateTest, SequenceWrapsAtInt32Max) {
  const int32_t max = std::numeric_limits<int32_t>::max();
  EXPECT_EQ(increment_sequence(max - 1, 3), 1);
  EXPECT_EQ(decrement_sequence(1, 3), max - 1);
  ASSERT_EQ(append(data(4, 0, max - 2, 2)), std::nullopt);  // max-2, max-1
  ProducerBatchFacts wrapping = data(4, 0, max, 3);         // max, 0, 1
  EXPECT_EQ(wrapping.last_seq, 1);
  EXPECT_EQ(append(wrapping), std::nullopt);
  EXPECT_EQ(append(data(4, 0, 2)), std::nullopt);
  ASSERT_EQ(append(data(5, 0, max)), std::nullopt);
  EXPECT_EQ(append(data(5, 0, 1)), ErrorCode::kOutOfOrderSequenceNumber);
  EXPECT_EQ(append(data(5, 0, 0)), std::nullopt);
}

TEST_F(ProducerStateTest, CoordinatorAppendsSkipSequenceChecksButNotEpochs) {
  EXPECT_EQ(append(data(8, 1, -1, 2, true), AppendOrigin::kCoordinator), std::nullopt);
  EXPECT_EQ(append(data(8, 1, -1, 1, true), AppendOrigin::kCoordinator), std::nullopt);
  EXPECT_EQ(append(data(8, 0, -1, 1, true), AppendOrigin::kCoordinator),
            ErrorCode::kInvalidProducerEpoch);
  EXPECT_EQ(psm_.first_unstable_offset(), 0);
}

TEST_F(ProducerStateTest, TransactionsStartAndEnd) {
  EXPECT_EQ(psm_.first_unstable_offset(), std::nullopt);
  ASSERT_EQ(append(data(1, 0, 0, 2, /*txn=*/true)), std::nullopt);  // offsets 0-1
  ASSERT_EQ(append(data(2, 0, 0, 1, /*txn=*/true)), std::nullopt);  // offset 2
  EXPECT_EQ(psm_.first_unstable_offset(), 0);
  EXPECT_EQ(psm_.find(1)->current_txn_first_offset, 0);
  // A non-transactional batch during the transaction is refused.
  EXPECT_EQ(append(data(1, 0, 2)), ErrorCode::kInvalidTxnState);
  ASSERT_EQ(append(data(1, 0, 2, 1, true)), std::nullopt);  // offset 3, same transaction
  EXPECT_EQ(psm_.find(1)->current_txn_first_offset, 0);

  std::optional<CompletedTxn> done;
  ASSERT_EQ(append(marker(1, 0, /*commit=*/false, 4), AppendOrigin::kCoordinator, &done),
            std::nullopt);  // offset 4
  ASSERT_TRUE(done.has_value());
  EXPECT_EQ(done->producer_id, 1);
  EXPECT_EQ(done->first_offset, 0);
  EXPECT_EQ(done->last_offset, 4);
  EXPECT_TRUE(done->aborted);
  EXPECT_EQ(psm_.first_unstable_offset(), 2);
  EXPECT_EQ(psm_.find(1)->coordinator_epoch, 4);
  EXPECT_FALSE(psm_.find(1)->current_txn_first_offset.has_value());

  // A zombie coordinator, an old producer epoch, and a marker with no transaction.
  EXPECT_EQ(append(marker(2, 0, true, 3), AppendOrigin::kCoordinator), std::nullopt);
  EXPECT_EQ(psm_.first_unstable_offset(), std::nullopt);
  EXPECT_EQ(append(marker(1, 0, true, 3), AppendOrigin::kCoordinator),
            ErrorCode::kTransactionCoordinatorFenced);
  ASSERT_EQ(append(data(1, 1, 0, 1, true)), std::nullopt);
  EXPECT_EQ(append(marker(1, 0, true, 4), AppendOrigin::kCoordinator),
            ErrorCode::kInvalidProducerEpoch);
  ASSERT_EQ(append(marker(1, 2, true, 4), AppendOrigin::kCoordinator, &done), std::nullopt);
  ASSERT_TRUE(done.has_value());
  EXPECT_FALSE(done->aborted);
  EXPECT_EQ(psm_.find(1)->epoch, 2);
  EXPECT_TRUE(psm_.find(1)->batches.empty());
  done.reset();
  ASSERT_EQ(append(marker(3, 0, false, 0), AppendOrigin::kCoordinator, &done), std::nullopt);
  EXPECT_FALSE(done.has_value());
}

TEST_F(ProducerStateTest, ReplicationAppliesWithoutChecks) {
  ASSERT_EQ(append(data(1, 3, 0)), std::nullopt);
  EXPECT_FALSE(psm_.replay(data(1, 2, 50)).has_value());
  EXPECT_EQ(psm_.find(1)->last_seq(), 50);
}

TEST_F(ProducerStateTest, ExpiryKeepsOpenTransactions) {
  now_ = 1000;
  ASSERT_EQ(append(data(1, 0, 0)), std::nullopt);
  ASSERT_EQ(append(data(2, 0, 0, 1, true)), std::nullopt);
  now_ = 5000;
  ASSERT_EQ(append(data(3, 0, 0)), std::nullopt);
  EXPECT_EQ(psm_.remove_expired(/*now=*/6000, /*expiration=*/5001), 0);
  EXPECT_EQ(psm_.remove_expired(6000, 5000), 1);
  EXPECT_EQ(psm_.find(1), nullptr);
  EXPECT_NE(psm_.find(2), nullptr);  // idle too, but in a transaction
  EXPECT_NE(psm_.find(3), nullptr);
}

TEST_F(ProducerStateTest, SnapshotRoundTripKeepsTheLastBatch) {
  ASSERT_EQ(append(data(1, 0, 0, 3)), std::nullopt);
  ASSERT_EQ(append(data(1, 0, 3, 2)), std::nullopt);
  ASSERT_EQ(append(data(2, 4, 0, 1, true)), std::nullopt);
  ASSERT_EQ(append(marker(3, 1, true, 9), AppendOrigin::kCoordinator), std::nullopt);
  std::vector<ProducerSnapshotEntry> snap = psm_.to_snapshot();
  std::string bytes = encode_producer_snapshot(snap);
  EXPECT_EQ(bytes.size(), 10u + 3 * 46u);
  auto decoded = decode_producer_snapshot(bytes);
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(*decoded, snap);

  ProducerStateManager loaded;
  loaded.load_snapshot(*decoded, now_, 86400000);
  ASSERT_NE(loaded.find(1), nullptr);
  ASSERT_EQ(loaded.find(1)->batches.size(), 1u);
  EXPECT_EQ(loaded.find(1)->batches.back(), psm_.find(1)->batches.back());
  EXPECT_EQ(*loaded.find(2), *psm_.find(2));
  EXPECT_EQ(*loaded.find(3), *psm_.find(3));
  EXPECT_EQ(loaded.find(3)->last_seq(), -1);
  EXPECT_EQ(loaded.first_unstable_offset(), psm_.first_unstable_offset());
  // Expired producers are not loaded, unless in a transaction.
  ProducerStateManager later;
  later.load_snapshot(*decoded, now_ + 100, 50);
  EXPECT_EQ(later.find(1), nullptr);
  EXPECT_NE(later.find(2), nullptr);
}

TEST_F(ProducerStateTest, CorruptSnapshotsAreRefused) {
  ASSERT_EQ(append(data(1, 0, 0, 3)), std::nullopt);
  std::string bytes = encode_producer_snapshot(psm_.to_snapshot());
  EXPECT_TRUE(decode_producer_snapshot(bytes).ok());
  std::string flipped = bytes;
  flipped[20] ^= 1;
  EXPECT_TRUE(absl::IsDataLoss(decode_producer_snapshot(flipped).status()));
  std::string version = bytes;
  version[1] = 2;
  EXPECT_TRUE(absl::IsDataLoss(decode_producer_snapshot(version).status()));
  EXPECT_TRUE(
      absl::IsDataLoss(decode_producer_snapshot(bytes.substr(0, bytes.size() - 1)).status()));
  EXPECT_TRUE(absl::IsDataLoss(decode_producer_snapshot("").status()));
}

TEST(KafkaErrorTest, CodeTravelsAsPayload) {
  absl::Status s = kafka_error(ErrorCode::kInvalidTxnState, "nope");
  EXPECT_TRUE(absl::IsFailedPrecondition(s));
  EXPECT_EQ(s.message(), "nope");
  EXPECT_EQ(kafka_error_code(s), ErrorCode::kInvalidTxnState);
  EXPECT_EQ(kafka_error_code(absl::FailedPreconditionError("x")), std::nullopt);
  EXPECT_EQ(kafka_error_code(absl::OkStatus()), std::nullopt);
}

}  // namespace
}  // namespace gregor::storage

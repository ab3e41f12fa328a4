// Per-partition producer state (Kafka's ProducerStateManager / ProducerAppendInfo): for each
// producer id its epoch, its last 5 batches (duplicate detection), its coordinator epoch and
// ongoing transaction; the ongoing transactions by first offset give the last stable offset.
// Pure in-memory bookkeeping: the Log validates and applies batches and takes snapshots.
// Thread-safety: none; the owning Log guards it with its mutex.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <vector>

#include "absl/status/statusor.h"
#include "protocol/control_batch.h"
#include "protocol/record_batch.h"
#include "storage/producer_snapshot.h"

namespace gregor::storage {

// Who is appending, which decides the checks (Kafka's AppendOrigin).
enum class AppendOrigin {
  kClient,       // producers: epoch, sequence and transaction checks
  kCoordinator,  // group/transaction coordinators: no sequence checks (base sequence -1)
  kReplication,  // followers and log recovery: the batches are already in the log, no checks
};

// Kafka keeps this many batches per producer: up to 5 requests in flight may be retried.
inline constexpr size_t kProducerBatchesRetained = 5;

struct ProducerBatch {
  int32_t first_seq = -1;
  int32_t last_seq = -1;
  int64_t first_offset = -1;
  int64_t last_offset = -1;
  int64_t timestamp = -1;  // the batch's max timestamp
  bool operator==(const ProducerBatch&) const = default;
};

struct ProducerEntry {
  int16_t epoch = -1;
  std::deque<ProducerBatch> batches;  // oldest first, at most kProducerBatchesRetained
  int64_t last_timestamp = -1;
  int32_t coordinator_epoch = -1;
  std::optional<int64_t> current_txn_first_offset;

  int32_t last_seq() const { return batches.empty() ? -1 : batches.back().last_seq; }
  bool operator==(const ProducerEntry&) const = default;
};

// What producer state needs from one batch (its header, and the marker of a control batch).
struct ProducerBatchFacts {
  int64_t producer_id = -1;
  int16_t epoch = -1;
  int32_t first_seq = -1;
  int32_t last_seq = -1;
  int64_t first_offset = 0;
  int64_t last_offset = 0;
  int64_t max_timestamp = -1;
  bool transactional = false;
  bool control = false;
  std::optional<protocol::ControlMarker> marker;  // control batches that are markers

  // From a header whose base offset is already the real one; `marker` is left unset.
  static ProducerBatchFacts from_header(const protocol::RecordBatchHeader& h);
};

// A transaction ended by a marker at last_offset.
struct CompletedTxn {
  int64_t producer_id = -1;
  int64_t first_offset = -1;
  int64_t last_offset = -1;
  bool aborted = false;
};

// The producer's state after a batch, checked but not yet applied (the log applies it once
// the bytes are written).
struct ProducerUpdate {
  int64_t producer_id = -1;
  ProducerEntry entry;
  std::optional<int64_t> started_txn;  // first offset of a transaction this batch starts
  std::optional<CompletedTxn> completed;
};

// Sequence arithmetic with Kafka's wrap at INT32_MAX back to 0.
int32_t increment_sequence(int32_t seq, int32_t by);
int32_t decrement_sequence(int32_t seq, int32_t by);

class ProducerStateManager {
 public:
  // A cached batch of the producer with the batch's epoch and sequence range, if any.
  std::optional<ProducerBatch> find_duplicate(const ProducerBatchFacts& b) const;
  // Checks `b` as Kafka's ProducerAppendInfo does for `origin` and returns the new state.
  // Errors carry Kafka codes (kafka_error): INVALID_PRODUCER_EPOCH, OUT_OF_ORDER_SEQUENCE_NUMBER,
  // INVALID_TXN_STATE, TRANSACTION_COORDINATOR_FENCED. kReplication never fails.
  // REQUIRES: b.producer_id >= 0.
  absl::StatusOr<ProducerUpdate> prepare(const ProducerBatchFacts& b, AppendOrigin origin) const;
  void apply(ProducerUpdate update);
  // prepare(kReplication) + apply; returns the transaction the batch completed, if any.
  std::optional<CompletedTxn> replay(const ProducerBatchFacts& b);

  // First offset of the oldest ongoing transaction.
  std::optional<int64_t> first_unstable_offset() const;
  const ProducerEntry* find(int64_t producer_id) const;
  const std::map<int64_t, ProducerEntry>& producers() const { return producers_; }
  // Removes producers idle for expiration_ms (by their last timestamp) with no ongoing
  // transaction. Returns how many.
  int remove_expired(int64_t now_ms, int64_t expiration_ms);
  void clear();

  // Snapshots keep each producer's last batch only (as Kafka's do).
  std::vector<ProducerSnapshotEntry> to_snapshot() const;
  // Replaces the state; producers expired at now_ms are skipped (as Kafka does on load).
  void load_snapshot(const std::vector<ProducerSnapshotEntry>& entries, int64_t now_ms,
                     int64_t expiration_ms);

 private:
  std::map<int64_t, ProducerEntry> producers_;
  std::map<int64_t, int64_t> ongoing_;  // first offset -> producer id
};

}  // namespace gregor::storage

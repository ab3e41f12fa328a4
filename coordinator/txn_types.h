// The transaction coordinator's inputs and outputs: configuration, the state of one
// transactional id (Kafka's TransactionMetadata), and the two ports it writes through: the
// __transaction_state log and the partitions that receive commit/abort markers.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "coordinator/group_types.h"
#include "protocol/error_codes.h"

namespace gregor::coordinator {

inline constexpr std::string_view kTransactionStateTopic = "__transaction_state";

// Kafka's broker properties for transactions, with Kafka's defaults.
struct TxnConfig {
  int32_t max_timeout_ms = 900000;                    // transaction.max.timeout.ms
  int64_t id_expiration_ms = 7LL * 24 * 3600 * 1000;  // transactional.id.expiration.ms
  int32_t state_log_partitions = 50;                  // transaction.state.log.num.partitions
  int64_t abort_check_interval_ms =
      10000;  // transaction.abort.timed.out.transaction.cleanup.interval.ms
  int64_t expire_check_interval_ms =
      3600000;  // transaction.remove.expired.transaction.cleanup.interval.ms
};

// The persisted states, numbered as in __transaction_state (TransactionState.java).
enum class TxnState : int8_t {
  kEmpty = 0,
  kOngoing = 1,
  kPrepareCommit = 2,
  kPrepareAbort = 3,
  kCompleteCommit = 4,
  kCompleteAbort = 5,
  kDead = 6,
  kPrepareEpochFence = 7,
};
// Kafka's names ("Ongoing", ...), as DescribeTransactions/ListTransactions report them.
std::string_view txn_state_name(TxnState state);
// Case-sensitive inverse of txn_state_name; nullopt for anything else.
std::optional<TxnState> txn_state_from_name(std::string_view name);

// One transactional id's state; what a __transaction_state record holds.
struct TxnMetadata {
  std::string transactional_id;
  int64_t producer_id = -1;
  int64_t previous_producer_id = -1;  // kept in memory only, for KIP-360 retries
  int16_t producer_epoch = -1;
  int16_t last_producer_epoch = -1;  // the epoch before the last bump, in memory only
  int32_t timeout_ms = 0;
  TxnState state = TxnState::kEmpty;
  std::set<TopicPartition> partitions;
  int64_t start_ms = -1;  // when the ongoing transaction began
  int64_t last_update_ms = 0;
};

struct InitProducerIdRequest {
  std::optional<std::string> transactional_id;  // nullopt: an idempotent producer
  int32_t timeout_ms = 0;
  int64_t producer_id = -1;  // v3+: the producer's current id/epoch (KIP-360), else -1
  int16_t producer_epoch = -1;
};
struct InitProducerIdResult {
  ErrorCode error = ErrorCode::kNone;
  int64_t producer_id = -1;
  int16_t producer_epoch = -1;
};
using InitProducerIdCallback = std::function<void(InitProducerIdResult)>;
using TxnCallback = std::function<void(ErrorCode)>;

struct TxnListing {
  std::string transactional_id;
  int64_t producer_id = -1;
  TxnState state = TxnState::kEmpty;
};

struct TxnDescription {
  ErrorCode error = ErrorCode::kNone;
  TxnMetadata metadata;
};

// Where the coordinator persists: records of the compacted __transaction_state topic (key and
// value bytes as in txn_records.h; value nullopt = tombstone). `done` runs once, when the record
// is durable or failed, on any thread, possibly inside append(). The coordinator never holds its
// mutex while calling append().
class TxnLog {
 public:
  virtual ~TxnLog() = default;
  virtual void append(int32_t partition, std::string key, std::optional<std::string> value,
                      std::function<void(absl::Status)> done) = 0;
};

// Writes commit/abort markers (control batches) for a producer to the partitions of its
// transaction. Partitions that no longer exist are skipped. `done` runs once every marker is in
// its partition's log (or one failed), on any thread, possibly inside write_markers().
class TxnMarkerWriter {
 public:
  virtual ~TxnMarkerWriter() = default;
  virtual void write_markers(int64_t producer_id, int16_t producer_epoch, bool commit,
                             int32_t coordinator_epoch, std::vector<TopicPartition> partitions,
                             std::function<void(absl::Status)> done) = 0;
};

}  // namespace gregor::coordinator

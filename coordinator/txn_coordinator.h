// The transaction coordinator: Kafka's TransactionCoordinator as a library without I/O.
// It hands out producer ids and epochs (InitProducerId), tracks which partitions each
// transactional id writes to (AddPartitionsToTxn, AddOffsetsToTxn), and ends transactions
// (EndTxn): the decision (PrepareCommit/PrepareAbort) is made durable in __transaction_state
// first and the client is answered, then markers go to every partition, then the Complete
// state is written; the id's next request waits (is parked) until the markers are. A broker
// restart replays __transaction_state with load() and complete_load() finishes every decided
// transaction whose markers may not have been written. tick() aborts transactions that outlive
// their timeout (bumping the epoch, which fences the old producer) and expires idle ids.
//
// Thread-safety: every public method may be called from any thread. One mutex (mu_) guards all
// state; callbacks, TxnLog::append and TxnMarkerWriter::write_markers are always invoked with
// mu_ released. Each callback is invoked exactly once.
// Lifetime: the clock, log, marker writer and id source must outlive the coordinator, and every
// append's and write's `done` must have run before it is destroyed.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "coordinator/txn_types.h"
#include "storage/clock.h"

namespace gregor::coordinator {

class TxnCoordinator {
 public:
  // Returns a fresh, never used producer id (a ProducerIdManager's next()).
  using ProducerIdSource = std::function<absl::StatusOr<int64_t>()>;

  TxnCoordinator(TxnConfig config, const storage::Clock* clock, TxnLog* log,
                 TxnMarkerWriter* markers, ProducerIdSource ids);
  TxnCoordinator(const TxnCoordinator&) = delete;
  TxnCoordinator& operator=(const TxnCoordinator&) = delete;

  // InitProducerId. Without a transactional id: a new producer id at epoch 0. With one: the
  // id's producer id with its epoch bumped (a new id when the epoch is exhausted), after
  // aborting an ongoing transaction of the previous epoch (answered CONCURRENT_TRANSACTIONS,
  // the client retries). Errors: INVALID_REQUEST (empty id), INVALID_TRANSACTION_TIMEOUT,
  // CONCURRENT_TRANSACTIONS, PRODUCER_FENCED (the caller maps it to INVALID_PRODUCER_EPOCH
  // for InitProducerId < v4), COORDINATOR_NOT_AVAILABLE when no id can be allocated.
  void init_producer_id(const InitProducerIdRequest& request, InitProducerIdCallback done);

  // AddPartitionsToTxn / AddOffsetsToTxn (the caller passes the group's __consumer_offsets
  // partition). While the previous transaction's markers are being written the request waits
  // for them, where Kafka answers CONCURRENT_TRANSACTIONS. Errors: INVALID_REQUEST,
  // INVALID_PRODUCER_ID_MAPPING, PRODUCER_FENCED, CONCURRENT_TRANSACTIONS.
  void add_partitions(const std::string& transactional_id, int64_t producer_id,
                      int16_t producer_epoch, const std::vector<TopicPartition>& partitions,
                      TxnCallback done);

  // EndTxn. `done` runs once the decision (PrepareCommit/PrepareAbort) is durable, as in Kafka;
  // the markers and the Complete state follow. Errors:
  // INVALID_REQUEST, INVALID_PRODUCER_ID_MAPPING, PRODUCER_FENCED, CONCURRENT_TRANSACTIONS,
  // INVALID_TXN_STATE; NONE for a retry of an already completed identical end.
  void end_txn(const std::string& transactional_id, int64_t producer_id, int16_t producer_epoch,
               bool commit, TxnCallback done);

  // Transaction verification (KIP-890): NONE if `partition` is in the ongoing transaction of
  // the id with this producer id and epoch. Errors as Kafka's coordinator answers them:
  // INVALID_REQUEST (empty id), INVALID_PRODUCER_ID_MAPPING, PRODUCER_FENCED,
  // CONCURRENT_TRANSACTIONS (the transaction is ending), INVALID_TXN_STATE (not in it).
  ErrorCode verify_partition(const std::string& transactional_id, int64_t producer_id,
                             int16_t producer_epoch, const TopicPartition& partition) const;

  // DescribeTransactions: TRANSACTIONAL_ID_NOT_FOUND if unknown.
  TxnDescription describe(const std::string& transactional_id) const;
  // ListTransactions: filters are ANDed; empty means no filter; min_duration_ms < 0 means none
  // (v1: only transactions running at least that long).
  std::vector<TxnListing> list(const std::vector<TxnState>& states,
                               const std::vector<int64_t>& producer_ids,
                               int64_t min_duration_ms) const;

  // Replays one __transaction_state record (log order; value nullopt = tombstone). A malformed
  // record changes nothing and is reported.
  absl::Status load(std::string_view key, std::optional<std::string_view> value);
  // After the replay: writes the markers of every transaction that was decided but not
  // completed. Its work finishes asynchronously.
  void complete_load();

  // Aborts timed-out transactions and expires idle transactional ids when due.
  void tick();
  // When tick() next has work to do (ms of the clock).
  int64_t next_deadline_ms() const;

  // The partition of __transaction_state that holds a transactional id.
  int32_t partition_for(std::string_view transactional_id) const;

 private:
  struct Entry {
    TxnMetadata md;
    bool pending = false;  // a transition is being written; others answer CONCURRENT_TRANSACTIONS
    bool markers_failed = false;  // a decided transaction whose markers must be retried
    // Requests for the id that arrived while its markers were being written; run again once
    // they are (or failed).
    std::vector<std::function<void()>> parked;
  };
  // Completed actions collected under mu_ and run after it is released.
  using Actions = std::vector<std::function<void()>>;

  // Queues the append of `md` as its id's __transaction_state record; `done` gets the result.
  void append_state(const TxnMetadata& md, std::function<void(absl::Status)> done, Actions& out);
  // Writes `next` for its id, marks the entry pending meanwhile, then applies it and calls
  // `then` with the result (under no lock).
  void persist(const TxnMetadata& next, std::function<void(ErrorCode)> then, Actions& out);
  // PrepareCommit/PrepareAbort is durable: write the markers, then the Complete state, then
  // run the requests parked meanwhile.
  void send_markers(const TxnMetadata& prepared, Actions& out);
  // True while the decided transaction's markers are being written: requests wait for them.
  static bool writing_markers(const Entry& e);
  // Moves the parked requests of `tid` (if any) into `out`, to run once mu_ is released.
  void unpark(const std::string& tid, Actions& out);
  // Starts ending the ongoing transaction of `e` (state Ongoing, not pending).
  void begin_end(Entry& e, bool commit, std::function<void(ErrorCode)> then, Actions& out);
  void abort_timed_out(int64_t now, Actions& out);
  void expire_ids(int64_t now, Actions& out);
  static void run(Actions& actions);

  const TxnConfig config_;
  const storage::Clock* const clock_;
  TxnLog* const log_;
  TxnMarkerWriter* const markers_;
  const ProducerIdSource ids_;

  mutable std::mutex mu_;  // guards everything below
  std::map<std::string, Entry> txns_;
  int64_t next_abort_check_ms_ = 0;
  int64_t next_expire_check_ms_ = 0;
};

}  // namespace gregor::coordinator

// __transaction_state: the internal compacted topic where the transaction coordinator keeps the
// state of every transactional id, written through the normal partition logs; and the marker
// writer that puts commit/abort control batches into the partitions of a transaction.
// Thread-safety: both may be used from any thread (the logs are thread-safe).
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "coordinator/txn_types.h"

namespace gregor::coordinator {
class TxnCoordinator;
}

namespace gregor::broker {

class Broker;

inline constexpr char kTransactionStateTopic[] = "__transaction_state";

class TxnStateTopic final : public coordinator::TxnLog {
 public:
  explicit TxnStateTopic(Broker& broker) : broker_(broker) {}

  // Appends one record as a batch; `done` runs once it is fdatasync'ed (or in the page cache
  // with gregor.acks.all.fsync=false).
  void append(int32_t partition, std::string key, std::optional<std::string> value,
              std::function<void(absl::Status)> done) override;

  // Replays every partition into the coordinator (last value per key wins).
  absl::Status load_into(coordinator::TxnCoordinator& txns);

 private:
  Broker& broker_;
};

class TxnMarkers final : public coordinator::TxnMarkerWriter {
 public:
  explicit TxnMarkers(Broker& broker) : broker_(broker) {}

  // Writes each marker with Broker::write_txn_marker; `done` runs when all are durable, because
  // the coordinator forgets the transaction (Complete*) right after: a marker lost in a crash
  // after that would hold the partition's last stable offset back for good.
  void write_markers(int64_t producer_id, int16_t producer_epoch, bool commit,
                     int32_t coordinator_epoch, std::vector<coordinator::TopicPartition> partitions,
                     std::function<void(absl::Status)> done) override;

 private:
  Broker& broker_;
};

}  // namespace gregor::broker

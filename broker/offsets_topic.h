// __consumer_offsets: the internal compacted topic where the group coordinator keeps group
// metadata and committed offsets, written through the normal partition logs.
// Thread-safety: append() may be called from any thread (the logs are thread-safe).
#pragma once

#include <functional>
#include <vector>

#include "absl/status/status.h"
#include "coordinator/group_log.h"
#include "protocol/record_batch.h"

namespace gregor::coordinator {
class GroupCoordinator;
}

namespace gregor::broker {

class Broker;

inline constexpr char kOffsetsTopic[] = "__consumer_offsets";

class OffsetsTopic final : public coordinator::GroupLog {
 public:
  explicit OffsetsTopic(Broker& broker) : broker_(broker) {}

  // Appends the records as one batch; `done` runs once they are fdatasync'ed (or, with
  // gregor.acks.all.fsync=false, once they are in the page cache, like acks=all in Kafka).
  void append(int32_t offsets_partition, std::vector<coordinator::GroupRecord> records,
              std::function<void(absl::Status)> done) override;
  // The same as one transactional batch of `producer_id`/`producer_epoch`, base sequence -1
  // (TxnOffsetCommit); the transaction coordinator writes its marker later.
  void append_transactional(int32_t offsets_partition,
                            std::vector<coordinator::GroupRecord> records, int64_t producer_id,
                            int16_t producer_epoch, storage::TxnVerifier verify,
                            std::function<void(absl::Status)> done) override;

  // Replays every partition, oldest record first, into the coordinator: records of
  // transactional batches as pending offsets of their producer, markers as their outcome.
  absl::Status load_into(coordinator::GroupCoordinator& groups);

 private:
  void append_batch(int32_t offsets_partition, std::vector<coordinator::GroupRecord> records,
                    const protocol::BatchOptions& options, const storage::TxnVerifier& verify,
                    std::function<void(absl::Status)> done);

  Broker& broker_;
};

}  // namespace gregor::broker

// How the group coordinator persists: records appended to partitions of __consumer_offsets.
// The broker implements this over its partition logs; tests use an in-memory fake.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "storage/txn_verifier.h"

namespace gregor::coordinator {

// A record of __consumer_offsets: key bytes and value bytes (nullopt = tombstone).
struct GroupRecord {
  std::string key;
  std::optional<std::string> value;
};

class GroupLog {
 public:
  virtual ~GroupLog() = default;
  // Appends the records, in order, as one batch to partition `offsets_partition`, and calls
  // `done` exactly once when they are durable (or failed). `done` may run on any thread, also
  // inside append(); the coordinator never holds its mutex while calling append().
  virtual void append(int32_t offsets_partition, std::vector<GroupRecord> records,
                      std::function<void(absl::Status)> done) = 0;
  // Same as append(), but the batch is transactional: it carries `producer_id` and
  // `producer_epoch` (base sequence -1) and its records stay pending until the transaction
  // coordinator writes the commit or abort marker to the same partition (TxnOffsetCommit).
  // `verify` is asked when the batch opens the producer's transaction in the partition (see
  // storage::TxnVerifier); its error fails the append.
  virtual void append_transactional(int32_t offsets_partition, std::vector<GroupRecord> records,
                                    int64_t producer_id, int16_t producer_epoch,
                                    storage::TxnVerifier verify,
                                    std::function<void(absl::Status)> done) = 0;
};

}  // namespace gregor::coordinator

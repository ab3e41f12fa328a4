// The hook through which a partition log asks the transaction coordinator about a transaction
// (a header of its own so that the coordinator's types can name it cheaply).
#pragma once

#include <cstdint>
#include <functional>

#include "absl/status/status.h"

namespace gregor::storage {

// Asked before a transactional batch opens a transaction for its producer in a partition:
// whether the transaction coordinator holds that partition in the producer's ongoing
// transaction (Kafka's transaction verification, KIP-890). A non-OK status (with a Kafka code,
// storage/kafka_error.h) refuses the batch. Called under the log's lock, so it must not call
// back into the log; a marker that ends the transaction cannot slip in between.
using TxnVerifier = std::function<absl::Status(int64_t producer_id, int16_t producer_epoch)>;

}  // namespace gregor::storage

// Replays a partition log record by record: how internal logs (cluster metadata,
// __consumer_offsets) are loaded into memory at start.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>

#include "absl/status/status.h"
#include "protocol/record_batch.h"
#include "storage/log.h"

namespace gregor::storage {

// Calls `fn` for every record at or after `from_offset`, in offset order, until the log end
// as it was when the call started. Batches are decompressed with at most
// `max_batch_bytes`. Stops at the first error, from the log or from `fn`.
absl::Status for_each_record(const Log& log, int64_t from_offset, size_t max_batch_bytes,
                             const std::function<absl::Status(const protocol::Record&)>& fn);

// As for_each_record, but `fn` also gets the header of the record's batch (producer id and
// epoch, transactional and control flags), for logs that hold transactional batches such as
// __consumer_offsets. Control batches are delivered too: their one record has the key
// int16 version, int16 type (0 = abort, 1 = commit).
absl::Status for_each_record_in_batches(
    const Log& log, int64_t from_offset, size_t max_batch_bytes,
    const std::function<absl::Status(const protocol::RecordBatchHeader&, const protocol::Record&)>&
        fn);

}  // namespace gregor::storage

// Transaction markers (Kafka's EndTransactionMarker): the one-record control batch that ends a
// producer's transaction in a partition. Key = [int16 version 0][int16 type: 0 abort, 1 commit],
// value = [int16 version 0][int32 coordinator epoch]; the batch is transactional|control (0x30),
// uncompressed, base sequence -1. No I/O, no state.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace gregor::protocol {

struct ControlMarker {
  bool commit = false;  // false: abort
  int32_t coordinator_epoch = -1;
};

// A whole marker batch with base offset 0 (the log assigns the real one) and a valid CRC.
std::string make_control_batch(int64_t producer_id, int16_t epoch, bool commit,
                               int32_t coordinator_epoch, int64_t timestamp_ms);

// The marker in `batch` (one whole batch), or nullopt if it is not a well-formed transaction
// marker: not a control batch, no record, a key or value too short or with a negative version,
// or a control type other than abort/commit (KRaft's leader-change and snapshot records).
std::optional<ControlMarker> parse_control_batch(std::string_view batch);

}  // namespace gregor::protocol

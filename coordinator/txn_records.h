// The records of the internal topic __transaction_state, laid out as Kafka lays them out:
//
// | part  | bytes                                                                         |
// |-------|-------------------------------------------------------------------------------|
// | key   | int16 key version 0, transactional_id string                                  |
// | value | int16 value version 0, producer_id int64, producer_epoch int16,               |
// |       | transaction_timeout_ms int32, transaction_status int8 (TxnState),             |
// |       | transaction_partitions nullable [topic string, partition_ids [int32]],        |
// |       | transaction_last_update_timestamp_ms int64, transaction_start_timestamp_ms    |
// |       | int64                                                                         |
//
// A null value is a tombstone (the id expired). Fields are in
// protocol/schema/transaction_log_{key,value}.schema; v1 values (flexible) are read too.
#pragma once

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "coordinator/txn_types.h"

namespace gregor::coordinator {

std::string encode_txn_key(std::string_view transactional_id);
// InvalidArgument for a truncated key or an unknown key version.
absl::StatusOr<std::string> decode_txn_key(std::string_view bytes);

// Written at version 0, as Kafka does until transaction.version 1.
std::string encode_txn_value(const TxnMetadata& md);
absl::StatusOr<TxnMetadata> decode_txn_value(std::string_view transactional_id,
                                             std::string_view bytes);

}  // namespace gregor::coordinator

// The transaction calls gregorctl makes (ListTransactions, DescribeTransactions,
// DescribeProducers, WriteTxnMarkers), each at the best version both sides support, with the
// answers turned into the version-free txn_model types. Status errors are for failures of a
// call itself; per-id and per-partition Kafka errors are error codes.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "tools/gregorctl/kafka_client.h"
#include "tools/gregorctl/txn_model.h"

namespace gregor::tools {

// The transactions this broker coordinates, filtered by the broker (empty filters: all).
// min_duration_ms (only running longer than this) needs ListTransactions v1
// (FailedPrecondition otherwise).
absl::StatusOr<TxnList> list_transactions(KafkaClient& client,
                                          const std::vector<std::string>& states,
                                          const std::vector<int64_t>& producer_ids,
                                          std::optional<int64_t> min_duration_ms);

// DescribeTransactions for one transactional id. REQUIRES: `client` is its coordinator.
absl::StatusOr<TxnDescription> describe_transaction(KafkaClient& client,
                                                    const std::string& transactional_id);

// DescribeProducers for one partition. REQUIRES: `client` leads it.
absl::StatusOr<PartitionProducers> describe_producers(KafkaClient& client,
                                                      const TopicPartition& partition);

// WriteTxnMarkers with one marker for one partition; the partition's error code (
// UNKNOWN_SERVER_ERROR when the answer does not mention it). REQUIRES: `client` leads it.
absl::StatusOr<int16_t> write_txn_marker(KafkaClient& client, const TxnMarker& marker);

}  // namespace gregor::tools

// What gregorctl learns about transactions and producers, independent of protocol versions:
// txn_admin fills these, the txn commands combine and print them.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "tools/gregorctl/group_model.h"

namespace gregor::tools {

struct TxnListing {
  std::string transactional_id;
  int64_t producer_id = -1;
  std::string state;  // Kafka's name: Empty, Ongoing, PrepareCommit, CompleteAbort, ...
};

struct TxnList {
  int16_t error_code = 0;
  std::vector<std::string> unknown_state_filters;  // state names the broker does not know
  std::vector<TxnListing> transactions;
};

struct TxnDescription {
  int16_t error_code = 0;
  std::string transactional_id;
  std::string state;
  int32_t timeout_ms = 0;
  int64_t start_time_ms = -1;  // -1: no transaction running
  int64_t producer_id = -1;
  int16_t producer_epoch = -1;
  std::vector<TopicPartition> partitions;  // in the transaction, sorted
};

// One producer with state on a partition (DescribeProducers).
struct ProducerState {
  int64_t producer_id = -1;
  int32_t producer_epoch = -1;
  int32_t last_sequence = -1;
  int64_t last_timestamp = -1;
  int32_t coordinator_epoch = -1;         // -1: no marker written yet
  int64_t current_txn_start_offset = -1;  // -1: no open transaction
};

struct PartitionProducers {
  int16_t error_code = 0;
  std::string error_message;
  std::vector<ProducerState> producers;
};

// What to write with WriteTxnMarkers: one marker for one partition.
struct TxnMarker {
  TopicPartition partition;
  int64_t producer_id = -1;
  int16_t producer_epoch = -1;
  int32_t coordinator_epoch = 0;
  bool commit = false;
};

}  // namespace gregor::tools

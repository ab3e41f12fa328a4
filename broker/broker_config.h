// The broker's configuration: Kafka's server.properties names, parsed from a file plus
// `--override key=value` pairs. Every supported key is documented in config/server.properties.
// Unknown keys are reported (warned about) but accepted, as Kafka does; an invalid value is an
// error naming the key, and gregord refuses to start.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "coordinator/group_types.h"
#include "coordinator/txn_types.h"
#include "storage/log_config.h"

namespace gregor::broker {

struct Listener {
  std::string name = "PLAINTEXT";
  std::string host;  // empty: all interfaces
  int port = 9092;
};

struct BrokerConfig {
  int32_t node_id = 1;
  std::vector<Listener> listeners;
  std::vector<Listener> advertised_listeners;
  std::vector<std::string> log_dirs;
  int32_t num_partitions = 1;
  int16_t default_replication_factor = 1;
  bool auto_create_topics_enable = true;
  bool delete_topic_enable = true;
  int32_t socket_request_max_bytes = 104857600;
  int32_t io_threads = 0;  // 0: one per core
  int64_t log_retention_check_interval_ms = 300000;
  int64_t log_flush_scheduler_interval_ms = 1000;
  // acks=all waits for fdatasync of the batch (grouped across requests). false: Kafka's own
  // behaviour, where acks=all means written to the page cache of every in-sync replica.
  bool acks_all_fsync = true;
  std::string cluster_id = "gregor-cluster";
  storage::LogConfig log_defaults;  // log.* defaults that topics inherit
  coordinator::GroupConfig groups;  // group.* and offsets.* settings
  int16_t offsets_topic_replication_factor = 1;
  int32_t offsets_topic_segment_bytes = 104857600;
  coordinator::TxnConfig transactions;  // transaction.* and transactional.id.* settings
  int32_t transaction_state_log_segment_bytes = 104857600;
  // transaction.partition.verification.enable (KIP-890, Kafka's default since 3.6).
  bool transaction_partition_verification = true;

  // Keys that were set but are not known; main() warns about them.
  std::vector<std::string> unknown_keys;
};

// Parses a properties file's text (key=value or key: value lines, # and ! comments,
// backslash line continuations).
absl::StatusOr<std::map<std::string, std::string>> parse_properties(const std::string& text);

// Builds the configuration from properties (file first, then overrides win).
absl::StatusOr<BrokerConfig> make_broker_config(const std::map<std::string, std::string>& props);

// Parses "NAME://host:port,NAME2://host:port".
absl::StatusOr<std::vector<Listener>> parse_listeners(const std::string& value);

}  // namespace gregor::broker
